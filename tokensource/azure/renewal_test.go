package azure_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
)

// cachingAz writes a fake az that behaves as the real one: it hands back
// its cached token until 5 minutes before it expires, then gets a new one
// for an hour. Its clock is the test's fake clock, which the test writes to
// the file it returns; it counts its runs in the other file.
func cachingAz(t *testing.T) (nowFile, runsFile string) {
	dir := t.TempDir()
	nowFile, runsFile = filepath.Join(dir, "now"), filepath.Join(dir, "runs")
	state, count := filepath.Join(dir, "exp"), filepath.Join(dir, "count")
	fakeCLI(t, "az", `echo run >> '`+runsFile+`'
now=$(cat '`+nowFile+`')
exp=$(cat '`+state+`' 2>/dev/null || echo 0)
if [ $((exp - now)) -lt 300 ]; then
	exp=$((now + 3600)); echo $exp > '`+state+`'
	echo $(( $(cat '`+count+`' 2>/dev/null || echo 0) + 1 )) > '`+count+`'
fi
echo "{\"accessToken\": \"az-token-$(cat '`+count+`')\", \"expires_on\": $(( $(date +%s) + exp - now )), \"tokenType\": \"Bearer\"}"`)
	return nowFile, runsFile
}

// A 1 h token from az costs at most 2 az runs per lifetime, and no warning:
// az says when it renews, and the engine asks it then, not before.
func TestAzureCLIIsAskedWhenItRenews(t *testing.T) {
	nowFile, runsFile := cachingAz(t)
	clk := clocktest.New(time.Now().Truncate(time.Second))
	setNow := func() {
		if err := os.WriteFile(nowFile, []byte(strconv.FormatInt(clk.Now().Unix(), 10)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setNow()
	events := make(chan tokensource.Event, 4096)
	var mu sync.Mutex
	var all []tokensource.Event
	r := refresher(t, azure.AzureCLI{Scope: "api://energy-trading/.default"}, tokensource.WithClock(clk.Now),
		tokensource.WithObserver(func(e tokensource.Event) {
			mu.Lock()
			all = append(all, e)
			mu.Unlock()
			events <- e
		}))
	start := clk.Now()
	seen := map[string]bool{}
	for clk.Now().Sub(start) < 3*time.Hour { // three lifetimes, a minute at a time
		tok, err := r.Token()
		if err != nil {
			t.Fatalf("at +%v: %v", clk.Now().Sub(start), err)
		}
		seen[tok.AccessToken] = true
		settle(t, events)
		clk.Advance(time.Minute)
		setNow()
	}
	r.Close()
	mu.Lock()
	defer mu.Unlock()
	for _, e := range all {
		if e.Kind == tokensource.SourceCachesTokens || e.Kind == tokensource.RefreshUnchanged {
			t.Errorf("event %v: az was asked before it renews", e.Kind)
		}
	}
	b, _ := os.ReadFile(runsFile)
	runs := strings.Count(string(b), "run")
	if runs > 2*3 || len(seen) < 3 {
		t.Errorf("%d az runs and %d tokens in 3 hours; want at most 2 runs per lifetime, and a new token each lifetime", runs, len(seen))
	}
	t.Logf("3 hours of 1 h tokens: %d az runs, tokens %v", runs, seen)
}

// settle waits for a refresh that a call may have started to end, so that
// the fake clock moves only between fetches.
func settle(t *testing.T, events chan tokensource.Event) {
	t.Helper()
	select {
	case e := <-events:
		if e.Kind != tokensource.RefreshStarted {
			return
		}
	case <-time.After(20 * time.Millisecond):
		return
	}
	for {
		select {
		case e := <-events:
			switch e.Kind {
			case tokensource.RefreshSucceeded, tokensource.RefreshFailed, tokensource.RefreshUnchanged:
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a refresh did not end within 10 s")
		}
	}
}
