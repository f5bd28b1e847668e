package chromium

import (
	"context"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
)

// A response CORS blocks after the server answered must still show its status
// in Chrome's view: it arrives only in responseReceivedExtraInfo, which can
// trail loadingFailed (seen 3 times in 200 before the harness waited for it).
func TestABlockedResponseKeepsItsStatus(t *testing.T) {
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 100 {
		r, err := env.Do(ctx, harness.Request{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Browser.Reason != "MissingAllowOriginHeader" || r.Browser.Actual == nil || r.Browser.Actual.Status != 200 {
			t.Fatalf("request %d: Chrome's view lacks the status the server sent:\n%s", i, r)
		}
	}
}
