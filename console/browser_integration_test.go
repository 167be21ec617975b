package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/log-monitor/log_monitor/testkit"
)

// The console's browser tests run the real pipeline (`logmon all` tailing
// a file, `logmon agent` sampling this machine) on the real Kafka and
// Elasticsearch, and drive Debian's Chromium through chromedp against the
// console `logmon api` serves. One pipeline serves every check.
func TestConsoleInChromium(t *testing.T) {
	k := testkit.Kafka(t)
	es := testkit.Elastic(t)
	bin := testkit.BuildLogmon(t)
	dir := t.TempDir()
	name := testkit.UniqueName("it-console")
	testkit.DeleteTopicsAtEnd(t, k, name)
	t.Cleanup(func() { testkit.DeleteIndices(es.URLs[0], "*-"+name) })
	const host = "console-host"
	brokers := strings.Join(k.Brokers, ",")

	// A quiet start: a few failures of an early IP, so every page has data,
	// and one line of each of 20 other IPs, so that every partition has had
	// its first event: the IP stage restores a partition's day aggregates at
	// its first event after an assignment, and that event waits for it
	// (1-3 s, docs/processors.md); a running pipeline has paid that long ago.
	logFile := filepath.Join(dir, "auth.log")
	early := fmt.Sprintf("198.51.100.%d", 1+time.Now().UnixNano()%250)
	lines := sshLines(host, early, 3, time.Now().UTC().Add(-2*time.Minute))
	for i := range 20 {
		lines += sshLines(host, fmt.Sprintf("192.0.2.%d", 10+i), 1, time.Now().UTC().Add(-2*time.Minute))
	}
	if err := os.WriteFile(logFile, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	httpAddr := testkit.FreeAddr(t)
	hb := name + "-" + heartbeatsTopic()
	common := []string{"-brokers", brokers, "-health-interval", "2s", "-log-level", "warn"}
	testkit.StartLogmon(t, bin, nil, "all", append(common, "-es-urls", strings.Join(es.URLs, ","), "-name-prefix", name+"-",
		"-globs", logFile, "-from-start", "-source-tz", "UTC", "-report-tz", "UTC", "-instance", "console",
		"-data-dir", filepath.Join(dir, "data"), "-metrics-addr", "", "-http-addr", httpAddr, "-grpc-addr", testkit.FreeAddr(t))...)
	agent := testkit.StartLogmon(t, bin, nil, "agent", append(common, "-host", host, "-interval", "1s", "-topic", name+"-system-metrics",
		"-heartbeats-topic", hb, "-instance", "console-agent",
		"-spool-dir", filepath.Join(dir, "spool"), "-metrics-addr", "")...)
	base := "http://" + httpAddr
	waitHTTP(t, base+"/v1/ready", 2*time.Minute, http.StatusOK)
	waitJSON(t, base+"/v1/ips/"+early, 2*time.Minute, func(m map[string]any) bool { return m["events"] == float64(3) })
	waitJSON(t, base+"/v1/ips/192.0.2.29", time.Minute, func(m map[string]any) bool { return m["events"] == float64(1) })

	b := newBrowser(t)
	shots := artifacts(t)

	// Now: an attack appended to the tailed file appears in the live feed
	// without a reload.
	t.Run("live feed", func(t *testing.T) {
		ctx := b.tab(t, 1440)
		run(t, ctx, chromedp.Navigate(base+"/#/now"), waitPage("now"),
			chromedp.WaitVisible(chromedp.CSS(`[data-live="on"]`)),
			js(`window.__sameDocument = 42`))
		attacker := fmt.Sprintf("203.0.113.%d", 1+time.Now().UnixNano()%250)
		api := watchAlert(t, base, attacker)
		// As a live server writes them: the last line is of this second.
		appendFile(t, logFile, sshLines(host, attacker, 12, time.Now().UTC().Add(-11*time.Second)))
		appended := time.Now()
		run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`tr[data-rule="brute_force"] a[data-ip="`+attacker+`"]`)))
		shown := time.Since(appended)
		var fromAPI time.Duration
		select {
		case at := <-api:
			fromAPI = time.Since(at)
		case <-time.After(5 * time.Second):
			t.Fatal("the page shows an alert the API stream did not send")
		}
		same := val(t, ctx, chromedp.Evaluate[int](`window.__sameDocument || 0`))
		if same != 42 {
			t.Error("the page reloaded to show the alert")
		}
		t.Logf("brute_force of %s on the page %.2f s after the lines were appended, %.2f s after the API's stream sent it", attacker, shown.Seconds(), fromAPI.Seconds())
		if shown > 2*time.Second {
			t.Errorf("the alert took %.2f s from the file to the page, want at most 2 s", shown.Seconds())
		}

		// IP: the same numbers as GET /v1/ips/{ip}.
		// The IP's record reaches the API's view after its alert: wait for it.
		waitJSON(t, base+"/v1/ips/"+attacker, time.Minute, func(m map[string]any) bool { return m["events"] == float64(12) })
		var want map[string]any
		getJSON(t, base+"/v1/ips/"+attacker, &want)
		run(t, ctx, chromedp.Navigate(base+"/#/ip/"+attacker), waitPage("ip"))
		for _, f := range []string{"events", "failures", "successes", "invalid_users", "late_events"} {
			if got := field(t, ctx, f); got != number(want[f]) {
				t.Errorf("IP page %s = %q, GET /v1/ips/%s says %v", f, got, attacker, want[f])
			}
		}
		events := val(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-table="events"] tbody tr').length`))
		t.Logf("IP page: %d recent events from Elasticsearch", events)
	})

	// Days: the same numbers as GET /v1/metrics/daily/{date}.
	t.Run("day page", func(t *testing.T) {
		ctx := b.tab(t, 1440)
		day := time.Now().UTC().Format(time.DateOnly)
		var want map[string]any
		getJSON(t, base+"/v1/metrics/daily/"+day, &want)
		run(t, ctx, chromedp.Navigate(base+"/#/days/"+day), waitPage("days"), chromedp.WaitVisible(chromedp.CSS(`.uplot`)))
		for _, f := range []string{"total_logs", "error_count", "unique_ips", "peak_hour_logs", "brute_force_ips"} {
			if got := field(t, ctx, f); got != number(want[f]) {
				t.Errorf("day page %s = %q, GET /v1/metrics/daily/%s says %v", f, got, day, want[f])
			}
		}
	})

	// Hosts: the agent's host, and its page with the charts.
	t.Run("hosts", func(t *testing.T) {
		ctx := b.tab(t, 1440)
		run(t, ctx, chromedp.Navigate(base+"/#/hosts"), chromedp.WaitVisible(chromedp.CSS(`a[data-host="`+host+`"]`)),
			chromedp.Navigate(base+"/#/hosts/"+host), waitPage("host"), chromedp.WaitVisible(chromedp.CSS(`.uplot`)))
		run(t, ctx, chromedp.Sleep(300*time.Millisecond))
		charts := val(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('.uplot').length`))
		if charts != 3 {
			t.Errorf("host page: %d charts, want 3 (resources, network, SSH)", charts)
		}
	})

	// Leaving the Now page frees its streams' connections: a browser has
	// six per host, and a page kept in the back-forward cache held two.
	t.Run("leave and come back", func(t *testing.T) {
		ctx := b.tab(t, 1440)
		for i := range 4 {
			start := time.Now()
			run(t, ctx, chromedp.Navigate(base+"/#/now"), waitPage("now"))
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("visit %d of the Now page took %.1f s", i+1, d.Seconds())
			}
			run(t, ctx, chromedp.Navigate("about:blank"))
		}
	})

	// Every page at phone and desktop width: no horizontal scrolling, and
	// a screenshot of each.
	t.Run("widths", func(t *testing.T) {
		pages := []struct{ name, path, page string }{
			{"now", "#/now", "now"}, {"ip", "#/ip/" + early, "ip"}, {"days", "#/days/" + time.Now().UTC().Format(time.DateOnly), "days"},
			{"hosts", "#/hosts", "hosts"}, {"host", "#/hosts/" + host, "host"}, {"pipeline", "#/pipeline", "pipeline"},
		}
		for _, width := range []int64{390, 1440} {
			ctx := b.tab(t, width)
			for _, p := range pages {
				run(t, ctx, chromedp.Navigate(base+"/"+p.path), waitPage(p.page), chromedp.Sleep(700*time.Millisecond))
				scroll := val(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
				inner := val(t, ctx, chromedp.Evaluate[int](`window.innerWidth`))
				png := val(t, ctx, chromedp.FullScreenshot(100))
				if scroll > inner {
					t.Errorf("%s at %d px: the page is %d px wide (horizontal scrolling)", p.name, width, scroll)
				}
				file := filepath.Join(shots, fmt.Sprintf("%s-%d.png", p.name, width))
				if err := os.WriteFile(file, png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		t.Logf("screenshots in %s", shots)
	})

	// Pipeline: a stopped component shows down.
	t.Run("pipeline", func(t *testing.T) {
		ctx := b.tab(t, 1440)
		sel := `[data-component="agent/console-agent"]`
		run(t, ctx, chromedp.Navigate(base+"/#/pipeline"), chromedp.WaitVisible(chromedp.CSS(sel+`[data-state="up"]`)))
		if err := agent.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, chromedp.WaitVisible(chromedp.CSS(sel+`[data-down="true"]`)))
		state := val(t, ctx, chromedp.AttributeValue(chromedp.CSS(sel), "data-state"))
		t.Logf("stopped agent shown %q on the pipeline page", state.Value)
	})

	// A second API with a token: the page asks for it; killed: the page
	// says the API does not answer and retries until it is back.
	t.Run("token and unreachable", func(t *testing.T) {
		addr := testkit.FreeAddr(t)
		args := append(common, "-group", name+"-logmon-tracker", "-alerts", name+"-ssh-alerts", "-incidents", name+"-ssh-incidents",
			"-heartbeats-topic", hb, "-instance", "console-api2", "-events-index", "",
			"-data-dir", filepath.Join(dir, "api2"), "-metrics-addr", "", "-http-addr", addr, "-grpc-addr", testkit.FreeAddr(t))
		env := []string{"API_TOKEN=s3cret-console"}
		api := testkit.StartLogmon(t, bin, env, "api", args...)
		waitHTTP(t, "http://"+addr+"/v1/ready", time.Minute, http.StatusOK, http.StatusUnauthorized)
		ctx := b.tab(t, 1440)
		run(t, ctx, chromedp.Navigate("http://"+addr+"/#/now"), chromedp.WaitVisible(chromedp.CSS(`[data-token-prompt] input`)),
			chromedp.SendKeys(chromedp.CSS(`[data-token-prompt] input`), "s3cret-console"),
			chromedp.Click(chromedp.CSS(`[data-token-prompt] button`)), waitPage("now"))

		_ = api.Process.Kill()
		_ = api.Wait()
		// The page is loaded; only its calls to the API fail.
		run(t, ctx, js(`location.hash = "#/pipeline"`))
		run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-banner="unreachable"]`)))
		text := val(t, ctx, chromedp.Text(chromedp.CSS(`[data-banner="unreachable"]`)))
		if !strings.Contains(text, "does not answer") || !strings.Contains(text, "Retrying") {
			t.Errorf("banner %q", text)
		}
		testkit.StartLogmon(t, bin, env, "api", args...)
		run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`main [data-page="pipeline"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`[data-banner="unreachable"]`)))
	})
}

// browser is one headless Chromium for the test; each check opens a tab.
type browser struct{ ctx context.Context }

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := os.Getenv("LOGMON_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(name)
	}
	if path == "" {
		t.Fatal("no Chromium: scripts/test.sh installs Debian's chromium (apt-get install chromium), or set LOGMON_CHROMIUM to a Chrome binary")
	}
	// As root, without a sandbox; no background connections (this
	// machine's network refuses them, and they slow every start).
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return &browser{ctx: ctx}
}

// tab opens a tab width CSS pixels wide (a phone below 600).
func (b *browser) tab(t *testing.T, width int64) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	opts := []chromedp.EmulateViewportOption{}
	height := int64(900)
	if width < 600 {
		height = 844
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	// The tab opens with the first call, which must have no deadline (the
	// tab lives as long as that call's context).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.EmulateViewport(width, height, opts...))
	return ctx
}

// run runs actions with a minute to finish.
func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	val(t, ctx, chromedp.Steps(actions...))
}

// val runs an action that reads a value, with a minute to finish.
func val[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		html, _ := chromedp.Run(hctx, chromedp.OuterHTML(chromedp.CSS("body")))
		if len(html) > 3000 {
			html = html[:3000]
		}
		t.Fatalf("browser: %v\npage: %s", err, html)
	}
	return v
}

// js runs a statement in the page.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr)(ctx, t)
		return err
	})
}

// waitPage waits until the page name has rendered.
func waitPage(name string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`main > [data-page="` + name + `"]`))
}

// field is a fact's number as the page shows it, without separators.
func field(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	s := val(t, ctx, chromedp.Text(chromedp.CSS(`dd[data-field="`+name+`"]`)))
	return strings.ReplaceAll(strings.TrimSpace(s), ",", "")
}

// number is a JSON number as an integer string.
func number(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}

// artifacts is where the screenshots go: $LOGMON_ARTIFACTS/console, or
// artifacts/console in the repository.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LOGMON_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(testkit.RepoRoot(t), "artifacts")
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// heartbeatsTopic is the heartbeats topic the environment names (make
// test sets its own), which `logmon all -name-prefix` prefixes.
func heartbeatsTopic() string {
	if s := os.Getenv("LOGMON_HEARTBEATS_TOPIC"); s != "" {
		return s
	}
	return "logmon-heartbeats"
}

// waitHTTP waits until url answers one of the codes.
func waitHTTP(t *testing.T, url string, limit time.Duration, codes ...int) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			for _, c := range codes {
				if res.StatusCode == c {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no answer %v within %v (last: %v)", url, codes, limit, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// waitJSON waits until GET url answers a document ok accepts.
func waitJSON(t *testing.T, url string, limit time.Duration, ok func(map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var m map[string]any
		if res, err := http.Get(url); err == nil {
			if res.StatusCode == http.StatusOK {
				_ = json.NewDecoder(res.Body).Decode(&m)
			}
			res.Body.Close()
		}
		if m != nil && ok(m) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: not as expected within %v: %v", url, limit, m)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// watchAlert follows the API's alert stream for ip and says when its
// brute_force alert arrived.
func watchAlert(t *testing.T, base, ip string) <-chan time.Time {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/alerts/watch?ip="+ip, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	at := make(chan time.Time, 1)
	go func() {
		defer res.Body.Close()
		dec := json.NewDecoder(res.Body)
		for {
			var ev struct {
				Result struct {
					Alert *struct {
						Rule string `json:"rule"`
					} `json:"alert"`
				} `json:"result"`
			}
			if dec.Decode(&ev) != nil {
				return
			}
			if a := ev.Result.Alert; a != nil && a.Rule == "brute_force" {
				at <- time.Now()
				return
			}
		}
	}()
	return at
}

// sshLines are n failed root logins of ip on host, one per second from start.
func sshLines(host, ip string, n int, start time.Time) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s %s sshd[%d]: Failed password for root from %s port %d ssh2\n",
			start.Add(time.Duration(i)*time.Second).Format(time.Stamp), host, 5000+i, ip, 41000+i)
	}
	return b.String()
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
