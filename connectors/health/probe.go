package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/elastic"
)

// probeEvery is how long a dependency's answer is reused: /readyz may be
// asked often, the dependency is asked at most this often.
const probeEvery = 5 * time.Second

// cached wraps check so that it runs at most once per probeEvery.
func cached(check func() error) func() error {
	var (
		mu   sync.Mutex
		at   time.Time
		last error
	)
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) >= probeEvery {
			last, at = check(), time.Now()
		}
		return last
	}
}

// KafkaProbe is a readiness check: nil while at least one of the brokers
// answers.
func KafkaProbe(brokers []string) func() error {
	return cached(func() error {
		var errs []string
		for _, b := range probeBrokers(brokers) {
			if b.Up {
				return nil
			}
			errs = append(errs, b.Addr+": "+b.Error)
		}
		return fmt.Errorf("kafka: no broker answers (%s)", strings.Join(errs, "; "))
	})
}

// ElasticProbe is a readiness check: nil while the cluster answers yellow
// or green.
func ElasticProbe(c config.Elastic) func() error {
	es, err := elastic.NewClient(c)
	if err != nil {
		return func() error { return err }
	}
	return cached(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), esTimeout)
		defer cancel()
		h, err := elastic.Health(ctx, es)
		switch {
		case err != nil:
			return fmt.Errorf("elasticsearch: %w", err)
		case h == "red":
			return errors.New("elasticsearch: cluster health red")
		}
		return nil
	})
}
