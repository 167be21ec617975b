package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// Checked runs a goka group whose decisions also depend on time passing
// (a host falls silent, an incident's key goes quiet): no input arrives
// for those, so a checker walks the group's own partitions every so often
// and sends checks to the group's checks topic, which its handler decides
// on like any input (a replay of the same messages decides the same).
type Checked struct {
	Name  string // "host stage": errors and logs
	Kafka config.Kafka
	Graph *goka.GroupGraph
	// ChecksTopic is the group's input of checks.
	ChecksTopic string
	// Options are the processor's options (the exactness machinery's).
	Options []goka.ProcessorOption
	Log     *slog.Logger

	mu    sync.Mutex
	owned []int32
}

// Owned returns the partitions this instance was assigned last.
func (c *Checked) Owned() []int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int32(nil), c.owned...)
}

// Run runs the processor, and check with an emitter of the checks topic,
// until ctx ends or the processor fails.
func (c *Checked) Run(ctx context.Context, check func(ctx context.Context, em *goka.Emitter)) error {
	opts := append(append([]goka.ProcessorOption(nil), c.Options...),
		goka.WithPartitionChannelSize(kafkaconfig.ChannelBufferSize),
		goka.WithLogger(GokaLogger{Log: c.Log}),
		goka.WithRebalanceCallback(func(a goka.Assignment) {
			parts := make([]int32, 0, len(a))
			for p := range a {
				parts = append(parts, p)
			}
			c.mu.Lock()
			c.owned = parts
			c.mu.Unlock()
			c.Log.Info(c.Name+" assigned", "partitions", parts)
		}))
	proc, err := goka.NewProcessor(c.Kafka.Brokers, c.Graph, opts...)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	em, err := goka.NewEmitter(c.Kafka.Brokers, goka.Stream(c.ChecksTopic), new(codec.Bytes), kafkaconfig.EmitterOptions(c.Kafka)...)
	if err != nil {
		return fmt.Errorf("%s checks: %w", c.Name, err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		check(runCtx, em)
	}()
	err = proc.Run(runCtx)
	stop()
	<-checked
	if cerr := em.Finish(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("%s checks: %w", c.Name, cerr))
	}
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	return nil
}
