package views

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/hoststage"
)

// Hosts is a view over the host stage's table: each host's latest sample,
// state and open episodes. Its copy lives in memory: a record per host.
type Hosts struct {
	view *goka.View
	log  *slog.Logger
}

// NewHosts opens a view over the table of the host stage beside the
// tracker group trackerGroup.
func NewHosts(k config.Kafka, trackerGroup string, log *slog.Logger) (*Hosts, error) {
	opts := append(kafkaconfig.ViewOptions(k), goka.WithViewStorageBuilder(storage.MemoryBuilder()), goka.WithViewAutoReconnect())
	v, err := goka.NewView(k.Brokers, goka.Table(hoststage.TableTopic(hoststage.Group(trackerGroup))), hoststage.Codec{}, opts...)
	if err != nil {
		return nil, fmt.Errorf("hosts view: %w", err)
	}
	return &Hosts{view: v, log: log}, nil
}

// Run keeps the view up to date until ctx ends.
func (h *Hosts) Run(ctx context.Context) error {
	if err := h.view.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("hosts view: %w", err)
	}
	return nil
}

// Ready reports whether the view has recovered.
func (h *Hosts) Ready() bool { return h.view.Recovered() }

// WaitReady blocks until the view has recovered or ctx ends.
func (h *Hosts) WaitReady(ctx context.Context) error { return waitReady(ctx, h.Ready) }

// Host returns the record of host (nil when unknown).
func (h *Hosts) Host(name string) (*hoststage.HostState, error) {
	if !h.Ready() {
		return nil, ErrNotReady
	}
	v, err := h.view.Get(name)
	if err != nil {
		return nil, fmt.Errorf("hosts view get %s: %w", name, err)
	}
	r, _ := v.(*hoststage.HostState)
	return r, nil
}

// List returns every host's record, by name.
func (h *Hosts) List() ([]*hoststage.HostState, error) {
	if !h.Ready() {
		return nil, ErrNotReady
	}
	it, err := h.view.Iterator()
	if err != nil {
		return nil, fmt.Errorf("hosts view iterate: %w", err)
	}
	defer it.Release()
	var out []*hoststage.HostState
	for it.Next() {
		v, err := it.Value()
		if err != nil {
			return nil, fmt.Errorf("hosts view %s: %w", it.Key(), err)
		}
		if r, ok := v.(*hoststage.HostState); ok {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, nil
}
