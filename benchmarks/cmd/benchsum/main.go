// Command benchsum reads the raw outputs benchmarks/run.sh leaves in one
// results directory and prints the summary: medians with their spread
// (min-max over rounds), the ratios between the tools compared side by side,
// and the targets. With -md it prints the README's results table.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	md := flag.Bool("md", false, "print the Markdown results table instead of the text summary")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: benchsum [-md] RESULTS_DIR")
		os.Exit(2)
	}
	r, err := load(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsum:", err)
		os.Exit(1)
	}
	if *md {
		r.markdown(os.Stdout)
	} else {
		r.text(os.Stdout)
	}
}

// series is one measured quantity over the rounds.
type series []float64

func (s series) sorted() series {
	c := append(series(nil), s...)
	sort.Float64s(c)
	return c
}

func (s series) median() float64 {
	if len(s) == 0 {
		return 0
	}
	c := s.sorted()
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (s series) min() float64 { return s.sorted()[0] }
func (s series) max() float64 { return s.sorted()[len(s)-1] }

// fmtS prints "median (min-max, n=N)" with format f.
func (s series) fmtS(f string) string {
	if len(s) == 0 {
		return "n/a"
	}
	if len(s) == 1 {
		return fmt.Sprintf(f+" (n=1)", s[0])
	}
	return fmt.Sprintf(f+" ("+f+"-"+f+", n=%d)", s.median(), s.min(), s.max(), len(s))
}

// results are the figures of one run.
type results struct {
	dir   string
	lines float64
	bytes float64

	goBench map[string]map[string]series // benchmark -> unit -> values
	allocs  map[string]map[string]float64

	// parse section, per tool ("logmon", "fail2ban", "fail2ban-raw"): metric -> per round
	parse map[string]map[string]series
	// ingest section, per tool ("logmon", "pp")
	ingest map[string]map[string]series

	profile map[string]string
	load    series
	// loadBySection is the 1-minute load average sampled during each section
	// (parse, ingest, profile).
	loadBySection map[string]series
	sections      []string
	machine       []string
}

func load(dir string) (*results, error) {
	r := &results{
		dir:     dir,
		goBench: map[string]map[string]series{},
		allocs:  map[string]map[string]float64{},
		parse:   map[string]map[string]series{},
		ingest:  map[string]map[string]series{},
		profile: map[string]string{},
	}
	kv, err := readKV(filepath.Join(dir, "data.txt"))
	if err != nil {
		return nil, err
	}
	r.lines, _ = strconv.ParseFloat(kv["lines"], 64)
	r.bytes, _ = strconv.ParseFloat(kv["bytes"], 64)
	if r.lines == 0 {
		return nil, fmt.Errorf("%s: no line count", filepath.Join(dir, "data.txt"))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "machine.txt")); err == nil {
		r.machine = strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	r.readGoBench(filepath.Join(dir, "gobench.txt"))
	r.readAllocs(filepath.Join(dir, "parseallocs.txt"))
	if err := r.readParse(filepath.Join(dir, "parse")); err != nil {
		return nil, err
	}
	if err := r.readIngest(filepath.Join(dir, "ingest")); err != nil {
		return nil, err
	}
	if kv, err := readKV(filepath.Join(dir, "profile", "ingestprof.txt")); err == nil {
		r.profile = kv
	}
	r.readLoad(filepath.Join(dir, "loadavg.tsv"))
	return r, nil
}

// readKV reads key=value pairs separated by blanks or new lines; later keys win.
func readKV(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	kv := map[string]string{}
	for _, f := range strings.Fields(string(b)) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		}
	}
	return kv, nil
}

func num(kv map[string]string, k string) (float64, bool) {
	v, ok := kv[k]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// readGoBench parses `go test -bench` output with custom metrics.
func (r *results) readGoBench(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 || !strings.HasPrefix(fs[0], "Benchmark") {
			continue
		}
		name := fs[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := r.goBench[name]
		if m == nil {
			m = map[string]series{}
			r.goBench[name] = m
		}
		for i := 2; i+1 < len(fs); i += 2 {
			v, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				continue
			}
			m[fs[i+1]] = append(m[fs[i+1]], v)
		}
	}
}

func (r *results) readAllocs(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		kv := map[string]string{}
		for _, f := range strings.Fields(l) {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		if kv["json"] == "" {
			continue
		}
		name := "parse"
		if kv["json"] == "true" {
			name = "parse+json"
		}
		m := map[string]float64{}
		for k, v := range kv {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				m[k] = f
			}
		}
		r.allocs[name] = m
	}
}

var roundFile = regexp.MustCompile(`^r(\d+)-([a-z0-9-]+)\.(json|time|out|log|offsets|brokercpu)$`)

// rounds lists the measured rounds' files (warm-up round 0 excluded):
// tool -> round -> kind -> path.
func rounds(dir string) (map[string]map[int]map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	out := map[string]map[int]map[string]string{}
	for _, e := range ents {
		m := roundFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if n == 0 {
			continue
		}
		if out[m[2]] == nil {
			out[m[2]] = map[int]map[string]string{}
		}
		if out[m[2]][n] == nil {
			out[m[2]][n] = map[string]string{}
		}
		out[m[2]][n][m[3]] = filepath.Join(dir, e.Name())
	}
	return out, nil
}

// addTime adds the wall time, CPU time and peak memory of one
// /usr/bin/time record (path) to tool's series in m.
func addTime(m map[string]map[string]series, tool, path string) error {
	kv, err := readKV(path)
	if err != nil {
		return err
	}
	w, _ := num(kv, "wall_s")
	u, _ := num(kv, "user_s")
	s, _ := num(kv, "sys_s")
	add(m, tool, "wall_s", w)
	add(m, tool, "cpu_s", u+s)
	if v, ok := num(kv, "maxrss_kb"); ok {
		add(m, tool, "maxrss_mb", v/1024)
	}
	return nil
}

func add(m map[string]map[string]series, tool, metric string, v float64) {
	if m[tool] == nil {
		m[tool] = map[string]series{}
	}
	m[tool][metric] = append(m[tool][metric], v)
}

func sortedRounds(m map[int]map[string]string) []int {
	var ns []int
	for n := range m {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	return ns
}

var (
	f2bLines     = regexp.MustCompile(`Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed`)
	f2bProcessed = regexp.MustCompile(`\[processed in ([0-9.]+) sec\]`)
	ppTotal      = regexp.MustCompile(`(\d+) records sent, ([0-9.]+) records/sec \(([0-9.]+) MB/sec\), ([0-9.]+) ms avg latency, ([0-9.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th`)
	ingestDone   = regexp.MustCompile(`msg="ingest done" seconds=([0-9.]+)`)
	ingestPub    = regexp.MustCompile(`msg="ingest stopped" published=(\d+) failed=(\d+)`)
)

func (r *results) readParse(dir string) error {
	rs, err := rounds(dir)
	if err != nil {
		return err
	}
	for tool, byRound := range rs {
		for _, n := range sortedRounds(byRound) {
			files := byRound[n]
			if p := files["json"]; p != "" { // hyperfine
				var h struct {
					Results []struct {
						Median float64   `json:"median"`
						User   float64   `json:"user"`
						System float64   `json:"system"`
						Times  []float64 `json:"times"`
					} `json:"results"`
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(b, &h); err != nil || len(h.Results) == 0 {
					return fmt.Errorf("%s: not hyperfine's JSON: %v", p, err)
				}
				add(r.parse, tool, "wall_s", h.Results[0].Median)
				add(r.parse, tool, "cpu_s", h.Results[0].User+h.Results[0].System)
				add(r.parse, tool, "runs", float64(len(h.Results[0].Times)))
			}
			if p := files["time"]; p != "" { // /usr/bin/time: one run (or the median of a loop)
				if err := addTime(r.parse, tool, p); err != nil {
					return err
				}
			}
			if p := files["out"]; p != "" {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if m := f2bLines.FindSubmatch(b); m != nil {
					v, _ := strconv.ParseFloat(string(m[1]), 64)
					add(r.parse, tool, "lines", v)
					v, _ = strconv.ParseFloat(string(m[3]), 64)
					add(r.parse, tool, "matched", v)
				}
				if m := f2bProcessed.FindSubmatch(b); m != nil {
					v, _ := strconv.ParseFloat(string(m[1]), 64)
					add(r.parse, tool, "processed_s", v)
				}
			}
		}
	}
	return nil
}

func (r *results) readIngest(dir string) error {
	rs, err := rounds(dir)
	if err != nil {
		return err
	}
	for tool, byRound := range rs {
		for _, n := range sortedRounds(byRound) {
			files := byRound[n]
			if p := files["time"]; p != "" {
				if err := addTime(r.ingest, tool, p); err != nil {
					return err
				}
			}
			if p := files["brokercpu"]; p != "" {
				kv, err := readKV(p)
				if err == nil {
					if v, ok := num(kv, "broker_cpu_s"); ok {
						add(r.ingest, tool, "broker_cpu_s", v)
					}
				}
			}
			if p := files["offsets"]; p != "" {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				var sum float64
				for _, l := range strings.Split(string(b), "\n") {
					f := strings.Split(strings.TrimSpace(l), ":")
					if len(f) == 3 {
						v, _ := strconv.ParseFloat(f[2], 64)
						sum += v
					}
				}
				add(r.ingest, tool, "records_in_topic", sum)
			}
			for _, kind := range []string{"log", "out"} {
				p := files[kind]
				if p == "" {
					continue
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if m := ingestDone.FindSubmatch(b); m != nil {
					v, _ := strconv.ParseFloat(string(m[1]), 64)
					add(r.ingest, tool, "run_s", v)
					add(r.ingest, tool, "run_rate", r.lines/v)
				}
				if m := ingestPub.FindSubmatch(b); m != nil {
					v, _ := strconv.ParseFloat(string(m[1]), 64)
					add(r.ingest, tool, "published", v)
				}
				if m := lastMatch(ppTotal, b); m != nil {
					v, _ := strconv.ParseFloat(string(m[2]), 64)
					add(r.ingest, tool, "run_rate", v)
					add(r.ingest, tool, "run_s", r.lines/v)
					v, _ = strconv.ParseFloat(string(m[3]), 64)
					add(r.ingest, tool, "mb_s", v)
					v, _ = strconv.ParseFloat(string(m[1]), 64)
					add(r.ingest, tool, "published", v)
					v, _ = strconv.ParseFloat(string(m[4]), 64)
					add(r.ingest, tool, "avg_latency_ms", v)
				}
			}
		}
	}
	return nil
}

func lastMatch(re *regexp.Regexp, b []byte) [][]byte {
	all := re.FindAllSubmatch(b, -1)
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1]
}

// readLoad reads the load samples ("unix-seconds load1 load5 load15") and
// the sections' start and end times (sections.txt: "name-start|end unix-seconds").
func (r *results) readLoad(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	type span struct{ start, end float64 }
	spans := map[string]*span{}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "sections.txt")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			fs := strings.Fields(l)
			if len(fs) != 2 {
				continue
			}
			t, _ := strconv.ParseFloat(fs[1], 64)
			if name, ok := strings.CutSuffix(fs[0], "-start"); ok {
				spans[name] = &span{start: t, end: 1e18}
				r.sections = append(r.sections, name)
			} else if name, ok := strings.CutSuffix(fs[0], "-end"); ok && spans[name] != nil {
				spans[name].end = t
			}
		}
	}
	r.loadBySection = map[string]series{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		t, err1 := strconv.ParseFloat(fs[0], 64)
		v, err2 := strconv.ParseFloat(fs[1], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		r.load = append(r.load, v)
		for name, s := range spans {
			if t >= s.start && t <= s.end {
				r.loadBySection[name] = append(r.loadBySection[name], v)
			}
		}
	}
}

// ratio returns num/den per round (rounds paired by index) as a series.
func ratio(num, den series) series {
	var out series
	for i := 0; i < len(num) && i < len(den); i++ {
		if den[i] != 0 {
			out = append(out, num[i]/den[i])
		}
	}
	return out
}

func inv(lines float64, s series) series {
	var out series
	for _, v := range s {
		if v != 0 {
			out = append(out, lines/v)
		}
	}
	return out
}

func scale(s series, k float64) series {
	var out series
	for _, v := range s {
		out = append(out, v*k)
	}
	return out
}

func mark(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func (r *results) text(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("== summary: figures on the replica (%.0f lines, %.1f MB), %s", r.lines, r.bytes/1e6, r.dir)
	for _, l := range r.machine {
		p("   %s", l)
	}
	if len(r.load) > 0 {
		p("   load average (1 min) during the run: %s", r.load.fmtS("%.2f"))
		for _, name := range r.sections {
			if l := r.loadBySection[name]; len(l) > 0 {
				p("     during %s: %s", name, l.fmtS("%.2f"))
			}
		}
	}
	if len(r.goBench) > 0 || len(r.allocs) > 0 || len(r.parse) > 0 {
		r.textParser(p)
	}
	if len(r.ingest) > 0 || len(r.profile) > 0 {
		r.textIngest(p)
	}
}

func (r *results) textParser(p func(string, ...any)) {
	p("")
	p("-- parser, one core")
	for _, name := range []string{"BenchmarkParse", "BenchmarkParseAppendJSON"} {
		m := r.goBench[name]
		if m == nil {
			continue
		}
		p("   go test %-25s ns/line %s  lines/s %s  B/line %s  allocs/line %s",
			name, m["ns/line"].fmtS("%.1f"), scale(m["lines/s"], 1e-6).fmtS("%.2fM"), m["B/op"].fmtS("%.0f"), m["allocs/op"].fmtS("%.0f"))
	}
	for _, name := range []string{"parse", "parse+json"} {
		if m, ok := r.allocs[name]; ok {
			p("   exact allocations (%s): %.4f allocs/line, %.1f B/line (best pass %.1f ns/line)", name, m["allocs_per_line"], m["bytes_per_line"], m["best_ns_per_line"])
		}
	}
	lm := r.parse["logmon"]
	if lm != nil {
		p("   logmon parse -summary, end to end: wall %s s = %s lines/s, %s ns/line (cpu %s s)",
			lm["wall_s"].fmtS("%.3f"), scale(inv(r.lines, lm["wall_s"]), 1e-6).fmtS("%.2fM"), scale(lm["wall_s"], 1e9/r.lines).fmtS("%.0f"), lm["cpu_s"].fmtS("%.3f"))
	}
	for _, tool := range []string{"fail2ban", "fail2ban-raw"} {
		f := r.parse[tool]
		if f == nil {
			continue
		}
		label := "fail2ban-regex sshd (stock: usedns=warn)"
		if tool == "fail2ban-raw" {
			label = "fail2ban-regex --raw sshd (no DNS)"
		}
		p("   %s: wall %s s = %s lines/s (cpu %s s, its own 'processed in' %s s, matched %s)",
			label, f["wall_s"].fmtS("%.1f"), inv(r.lines, f["wall_s"]).fmtS("%.0f"), f["cpu_s"].fmtS("%.1f"), f["processed_s"].fmtS("%.1f"), f["matched"].fmtS("%.0f"))
		if lm != nil {
			rw := ratio(f["wall_s"], lm["wall_s"])
			rc := ratio(f["cpu_s"], lm["cpu_s"])
			p("      speed ratio logmon/%s: wall %.0fx (medians; per round %s), cpu time %.0fx (per round %s)",
				tool, f["wall_s"].median()/lm["wall_s"].median(), rw.fmtS("%.0fx"), f["cpu_s"].median()/lm["cpu_s"].median(), rc.fmtS("%.0fx"))
		}
	}
	if lm != nil {
		rate := r.lines / lm["wall_s"].median()
		p("   target >= 1M lines/s end to end on one core: %s (%.2fM)", mark(rate >= 1e6), rate/1e6)
		for _, tool := range []string{"fail2ban", "fail2ban-raw"} {
			if f := r.parse[tool]; f != nil {
				x := f["wall_s"].median() / lm["wall_s"].median()
				p("   target >= 100x %s: %s (%.0fx)", tool, mark(x >= 100), x)
			}
		}
	}
}

func (r *results) textIngest(p func(string, ...any)) {
	p("")
	p("-- file -> Kafka, acks=all, RF 3, min.insync.replicas=2, 3 partitions")
	li, pp := r.ingest["logmon"], r.ingest["pp"]
	if li != nil {
		p("   logmon ingest: wall %s s = %s events/s (in-process run %s s = %s events/s); cpu %s s, max RSS %s MB, brokers' cpu %s s; records in topic %s",
			li["wall_s"].fmtS("%.2f"), inv(r.lines, li["wall_s"]).fmtS("%.0f"), li["run_s"].fmtS("%.2f"), li["run_rate"].fmtS("%.0f"),
			li["cpu_s"].fmtS("%.2f"), li["maxrss_mb"].fmtS("%.0f"), li["broker_cpu_s"].fmtS("%.1f"), li["records_in_topic"].fmtS("%.0f"))
	}
	if pp != nil {
		p("   ProducerPerformance (ceiling): %s records/s = %s s for the file (%s MB/s, avg latency %s ms); JVM wall %s s; cpu %s s, brokers' cpu %s s; records in topic %s",
			pp["run_rate"].fmtS("%.0f"), pp["run_s"].fmtS("%.2f"), pp["mb_s"].fmtS("%.1f"), pp["avg_latency_ms"].fmtS("%.1f"), pp["wall_s"].fmtS("%.2f"),
			pp["cpu_s"].fmtS("%.2f"), pp["broker_cpu_s"].fmtS("%.1f"), pp["records_in_topic"].fmtS("%.0f"))
	}
	if p1 := r.ingest["pp-inflight1"]; p1 != nil {
		p("   ProducerPerformance, max.in.flight.requests.per.connection=1 (Sarama's idempotent limit): %s records/s = %s s for the file; brokers' cpu %s s",
			p1["run_rate"].fmtS("%.0f"), p1["run_s"].fmtS("%.2f"), p1["broker_cpu_s"].fmtS("%.1f"))
		if li != nil {
			p("      ratio logmon/this variant: %.2f (per round %s)", r.lines/li["wall_s"].median()/p1["run_rate"].median(),
				ratio(inv(r.lines, li["wall_s"]), p1["run_rate"]).fmtS("%.2f"))
		}
	}
	if li != nil && pp != nil {
		wallRate := r.lines / li["wall_s"].median()
		ceil := pp["run_rate"].median()
		p("   ratio logmon/ceiling: %.2f by logmon's process wall time (per round %s), %.2f by its in-process run time (per round %s)",
			wallRate/ceil, ratio(inv(r.lines, li["wall_s"]), pp["run_rate"]).fmtS("%.2f"),
			li["run_rate"].median()/ceil, ratio(li["run_rate"], pp["run_rate"]).fmtS("%.2f"))
		p("   target whole file <= 5 s: %s (%.2f s)", mark(li["wall_s"].median() <= 5), li["wall_s"].median())
		p("   target >= 130k events/s: %s (%.0f)", mark(wallRate >= 130e3), wallRate)
		p("   target >= 0.8 of the ceiling: %s (%.2f)", mark(wallRate/ceil >= 0.8), wallRate/ceil)
	}
	if len(r.profile) > 0 {
		p("   profiled in-process run (not in the medians): %s s, %s events/s, logmon cpu %s s (top functions: profile/top.txt)",
			r.profile["seconds"], r.profile["events_per_s"], r.profile["cpu_seconds"])
	}
}

func (r *results) markdown(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("| figure on the replica | logmon | compared with | ratio | target |")
	p("|---|---|---|---|---|")
	if m := r.goBench["BenchmarkParse"]; m != nil {
		a := r.allocs["parse"]
		p("| parser alone, one core (`go test -bench BenchmarkParse`, %d runs) | %.0f ns/line, %.2fM lines/s, %.0f B/line, %.0f allocs/line (exactly %.4f) | | | |",
			len(m["ns/line"]), m["ns/line"].median(), m["lines/s"].median()/1e6, m["B/op"].median(), m["allocs/op"].median(), a["allocs_per_line"])
	}
	if m := r.goBench["BenchmarkParseAppendJSON"]; m != nil {
		p("| parser + JSON encoding, one core (`BenchmarkParseAppendJSON`) | %.0f ns/line, %.2fM lines/s | | | |",
			m["ns/line"].median(), m["lines/s"].median()/1e6)
	}
	lm := r.parse["logmon"]
	for _, tool := range []string{"fail2ban", "fail2ban-raw"} {
		f := r.parse[tool]
		if f == nil || lm == nil {
			continue
		}
		label := "`fail2ban-regex` stock `sshd` filter (usedns=warn)"
		if tool == "fail2ban-raw" {
			label = "`fail2ban-regex --raw` (no DNS lookups)"
		}
		x := f["wall_s"].median() / lm["wall_s"].median()
		p("| whole file, one core, wall (`logmon parse -summary` vs %s) | %s s = %.2fM lines/s | %s s = %.0f lines/s | %.0fx (rounds %s) | >= 100x, >= 1M lines/s |",
			label, lm["wall_s"].fmtS("%.3f"), r.lines/lm["wall_s"].median()/1e6, f["wall_s"].fmtS("%.1f"), r.lines/f["wall_s"].median(), x, ratio(f["wall_s"], lm["wall_s"]).fmtS("%.0fx"))
		p("| same, CPU time (user+sys) | %.3f s | %.1f s | %.0fx | |", lm["cpu_s"].median(), f["cpu_s"].median(), f["cpu_s"].median()/lm["cpu_s"].median())
	}
	li, pp := r.ingest["logmon"], r.ingest["pp"]
	if li != nil && pp != nil {
		wallRate := r.lines / li["wall_s"].median()
		p("| file -> Kafka, acks=all, RF 3 (`logmon ingest -once` vs `ProducerPerformance`, same JSON values) | %s s wall = %.0f events/s | %s records/s = %.2f s | %.2f of the ceiling (rounds %s) | <= 5 s, >= 130k events/s, >= 0.8 |",
			li["wall_s"].fmtS("%.2f"), wallRate, pp["run_rate"].fmtS("%.0f"), r.lines/pp["run_rate"].median(), wallRate/pp["run_rate"].median(),
			ratio(inv(r.lines, li["wall_s"]), pp["run_rate"]).fmtS("%.2f"))
		if p1 := r.ingest["pp-inflight1"]; p1 != nil {
			p("| same, ProducerPerformance with `max.in.flight.requests.per.connection=1` | | %s records/s | %.2f (rounds %s) | |",
				p1["run_rate"].fmtS("%.0f"), wallRate/p1["run_rate"].median(), ratio(inv(r.lines, li["wall_s"]), p1["run_rate"]).fmtS("%.2f"))
		}
		p("| same, client CPU time / brokers' CPU time | %.2f s / %.1f s | %.2f s (JVM, incl. start-up) / %.1f s | | |",
			li["cpu_s"].median(), li["broker_cpu_s"].median(), pp["cpu_s"].median(), pp["broker_cpu_s"].median())
	}
}
