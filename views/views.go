// Package views renders the console's HTML with templ: layouts/ is the page
// shell, pages/ one component per page fed a view model, components/ the
// reusable parts. Views render and fetch nothing: every figure arrives
// already formatted in a view model, and text comes from package i18n.
package views
