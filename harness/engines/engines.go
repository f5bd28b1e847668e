// Package engines links every browser engine corslab has into a program:
// import it for its side effect, as suite and the corslab command do.
//
//	import _ "github.com/corslab/corslab/harness/engines"
package engines

import (
	// Each engine registers itself with the harness from its init.
	_ "github.com/corslab/corslab/harness/chromium"
	_ "github.com/corslab/corslab/harness/firefox"
	_ "github.com/corslab/corslab/harness/webkit"
)
