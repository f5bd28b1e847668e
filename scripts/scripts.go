// Package scripts holds the shell scripts of corslab's repository that the
// corslab command runs itself: embedded, they travel with a corslab
// installed by go install, go run or go tool, where no checkout exists.
package scripts

import _ "embed" // for go:embed

// InstallBrowsers is install-browsers: it installs the browsers of the
// engines its first argument lists (else $CORSLAB_ENGINES, else all three)
// that are missing, from Debian's packages. Run it with bash.
//
//go:embed install-browsers
var InstallBrowsers string
