// Command consolebench measures the browser console against a running API
// (make demo leaves one at http://127.0.0.1:8080): for each page, the time
// from navigation to the page drawn (its data fetched, its charts made) in
// headless Chromium, the page's JavaScript heap, and the bytes the browser
// fetched; and the API process's resident memory before and after.
//
//	go run ./benchmarks/cmd/consolebench -url http://127.0.0.1:8080 -rounds 7 -api-pid <pid>
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the API's REST address, which serves the console")
	rounds := flag.Int("rounds", 7, "rounds per page")
	width := flag.Int64("width", 1440, "viewport width in CSS pixels")
	pid := flag.Int("api-pid", 0, "the API's process id, for its memory (0: not measured)")
	chromium := flag.String("chromium", "", "Chromium binary (default: chromium on PATH)")
	verbose := flag.Bool("v", false, "print every round's time")
	pages := flag.String("pages", "", "routes to load, comma-separated (default: every page, the IP, day and host taken from the API)")
	flag.Parse()
	if *chromium == "" {
		p, err := exec.LookPath("chromium")
		if err != nil {
			log.Fatal("no chromium on PATH (scripts/chromium.sh installs it)")
		}
		*chromium = p
	}
	routes := strings.Split(*pages, ",")
	if *pages == "" {
		routes = defaultRoutes(*base)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(*chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("enable-precise-memory-info", true), chromedp.UserDataDir(mustTemp()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(*width, 900)); err != nil {
		log.Fatalf("start chromium: %v", err)
	}
	fmt.Printf("console at %s, %d px, %d rounds per page\n", *base, *width, *rounds)
	if *pid > 0 {
		fmt.Printf("API pid %d before: %s\n", *pid, memory(*pid))
	}
	fmt.Printf("%-28s %10s %10s %10s %12s %12s\n", "route", "median ms", "min ms", "max ms", "JS heap", "fetched")
	for _, r := range routes {
		var ms []float64
		var heap, fetched float64
		for range *rounds {
			// From a blank page each time: the page's code, data and charts.
			if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
				log.Fatal(err)
			}
			start := time.Now()
			tctx, tcancel := context.WithTimeout(ctx, time.Minute)
			err := chromedp.Do(tctx, chromedp.Navigate(*base+"/"+r), chromedp.WaitVisible(chromedp.CSS(`main > [data-page]`)))
			tcancel()
			if err != nil {
				log.Fatalf("%s: %v", r, err)
			}
			ms = append(ms, float64(time.Since(start).Microseconds())/1000)
			heap, _ = chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.memory ? performance.memory.usedJSHeapSize : 0`))
			fetched, _ = chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.getEntriesByType("resource").concat(performance.getEntriesByType("navigation")).reduce((n, e) => n + (e.transferSize || 0), 0)`))
		}
		if *verbose {
			fmt.Printf("%s rounds (ms): %.0f\n", r, ms)
		}
		slices.Sort(ms)
		fmt.Printf("%-28s %10.0f %10.0f %10.0f %9.1f MiB %9.0f KiB\n", r, ms[len(ms)/2], ms[0], ms[len(ms)-1], heap/(1<<20), fetched/1024)
	}
	if *pid > 0 {
		fmt.Printf("API pid %d after: %s\n", *pid, memory(*pid))
	}
}

// defaultRoutes are the console's pages, with an IP, a day and a host the
// API knows.
func defaultRoutes(base string) []string {
	routes := []string{"#/now"}
	if ip := firstMatch(base+"/v1/alerts?page_size=1", `"ip":"`); ip != "" {
		routes = append(routes, "#/ip/"+ip)
	}
	routes = append(routes, "#/days")
	routes = append(routes, "#/hosts")
	if host := firstMatch(base+"/v1/hosts", `"name":"`); host != "" {
		routes = append(routes, "#/hosts/"+host)
	}
	return append(routes, "#/pipeline")
}

// firstMatch is the string value after key in GET url's answer.
func firstMatch(url, key string) string {
	res, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return ""
	}
	_, rest, ok := strings.Cut(string(out), key)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// memory is the process's resident and peak resident set.
func memory(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return err.Error()
	}
	var rss, hwm string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			hwm = strings.TrimSpace(v)
		}
	}
	return "RSS " + rss + ", peak " + hwm
}

func mustTemp() string {
	d, err := os.MkdirTemp("", "consolebench-")
	if err != nil {
		log.Fatal(err)
	}
	return d
}
