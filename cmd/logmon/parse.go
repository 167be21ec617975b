package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/contracts"
)

// runParse is the operator's dry run (like fail2ban-regex): it parses files
// (plain or .gz) or stdin and writes each line's event, exactly the Kafka
// value, or with -summary only the counts.
func runParse(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("parse", flag.ExitOnError)
	cfg.RegisterSourceFlags(fs)
	summary := fs.Bool("summary", false, "print counts per event_type, log_level and error_type, and the unknown lines' count, instead of the events")
	showUnknown := fs.Bool("show-unknown", false, "also print every unknown line to stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: logmon parse [flags] [FILE ...]   (no FILE or - reads stdin; .gz files are decompressed)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	loc, err := cfg.Ingest.Location()
	if err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	sum := sshlog.NewSummary()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := parseFile(f, sshlog.Source{Path: sourcePath(f), Year: cfg.Ingest.SourceYear, Loc: loc}, func(ev *contracts.Event) error {
			sum.Add(*ev)
			if *showUnknown && ev.EventType == contracts.TypeUnknown {
				fmt.Fprintf(os.Stderr, "unknown %s:%d: %s\n", ev.SourcePath, ev.Offset, ev.Message)
			}
			if *summary {
				return nil
			}
			b := ev.AppendJSON(out.AvailableBuffer())
			b = append(b, '\n')
			_, err := out.Write(b)
			return err
		})
		if err != nil {
			return err
		}
	}
	if *summary {
		return sum.WriteText(out)
	}
	return nil
}

func sourcePath(f string) string {
	if f == "-" {
		return "stdin"
	}
	return strings.TrimSuffix(f, ".gz")
}

// parseFile reads path line by line, with each line's byte offset, and calls
// emit with its event.
func parseFile(path string, src sshlog.Source, emit func(*contracts.Event) error) error {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("parse: %w", err)
		}
		defer f.Close()
		r = f
		if strings.HasSuffix(path, ".gz") {
			gz, err := gzip.NewReader(f)
			if err != nil {
				return fmt.Errorf("parse %s: %w", path, err)
			}
			defer gz.Close()
			r = gz
		}
	}
	p := sshlog.NewParser(src, nil)
	br := bufio.NewReaderSize(r, 1<<20)
	collected := time.Now()
	var offset int64
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			ev := p.Parse(line, offset, collected)
			if werr := emit(&ev); werr != nil {
				return fmt.Errorf("parse %s: %w", path, werr)
			}
			offset += int64(len(line))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("parse %s at byte %d: %w", path, offset, err)
		}
	}
}
