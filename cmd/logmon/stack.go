package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/stack"
)

func runStack(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("stack", flag.ExitOnError)
	fs.StringVar(&cfg.StackDir, "dir", cfg.StackDir, "stack directory: downloads, data, logs (env "+config.EnvStackDir+")")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: logmon stack [-dir DIR] up | down | status | reset | fetch")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("stack: want one action, got %v", fs.Args())
	}
	log := newLogger(cfg.LogLevel)
	st, err := stack.New(cfg.StackDir, log)
	if err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "up":
		if err := st.Up(ctx); err != nil {
			return err
		}
		printStatus(st)
		return nil
	case "down":
		return st.Down(ctx)
	case "status":
		printStatus(st)
		return nil
	case "reset":
		return st.Reset(ctx)
	case "fetch":
		if err := st.Fetch(ctx); err != nil {
			return err
		}
		return st.FetchMailpit(ctx)
	default:
		fs.Usage()
		return fmt.Errorf("stack: unknown action %q", fs.Arg(0))
	}
}

func printStatus(st *stack.Stack) {
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tSTATE\tPID\tRSS\tPORTS\tLOG")
	var total int64
	for _, s := range st.Status() {
		state := "stopped"
		rss := "-"
		if s.Running {
			state = "running"
			rss = fmt.Sprintf("%d MiB", s.RSSKiB/1024)
			total += s.RSSKiB
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%v\t%s\n", s.Name, state, s.PID, rss, s.Ports, s.LogFile)
	}
	w.Flush()
	fmt.Printf("total RSS %d MiB; Kafka %s at %s; Elasticsearch %s at %s; stack dir %s\n",
		total/1024, stack.KafkaVersion, config.LocalKafkaBrokers, stack.ElasticVersion, stack.ElasticURL(), st.Dir)
}
