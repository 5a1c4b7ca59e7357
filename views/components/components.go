// Package components holds the reusable pieces of the console's pages
// (balance header, status badge, toast), each fed a small props struct.
package components
