// Package pages holds one templ component per page of the console, each fed
// a view model whose fields are already formatted for display.
package pages
