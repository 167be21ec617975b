package tracker

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/ipstage"
	"github.com/log-monitor/log_monitor/processors/stage"
	"github.com/log-monitor/log_monitor/processors/userstage"
)

// The stages' state types and rules under the names the views, the API,
// processors/daily and the tests use.
type (
	// DayState is one day's aggregate over the IPs of one partition.
	DayState = ipstage.DayState
	// IPRecord is the IP stage's table value of one IP.
	IPRecord = ipstage.IPRecord
	// UserRecord is the user stage's table value of one user name.
	UserRecord = userstage.UserRecord
	// DayClose is the rule that makes a day's metrics-daily document final.
	DayClose = ipstage.DayClose
	// Metrics are the stages' Prometheus series.
	Metrics = stage.Metrics
)

const (
	// DayKeyPrefix starts the table key of every per-day aggregate.
	DayKeyPrefix = ipstage.DayKeyPrefix
	// KeepDays is how many of an IP's most recent days keep their counts.
	KeepDays = ipstage.KeepDays
)

// NewMetrics registers the stages' series with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics { return stage.NewMetrics(reg) }

// DefaultDayClose is the closing rule with its defaults (ipstage.DefaultDayClose).
func DefaultDayClose(loc *time.Location, partitions int) DayClose {
	return ipstage.DefaultDayClose(loc, partitions)
}

// Merge combines the partitions' aggregates of one day into its document.
func Merge(day string, parts []*DayState, createdAt time.Time) contracts.DailyMetrics {
	return ipstage.Merge(day, parts, createdAt)
}

// DayKey is the table key of day's aggregate for partition p.
func DayKey(day string, p int32) string { return ipstage.DayKey(day, p) }

// TableCodec decodes and encodes the values of either stage's table: the
// views read the IP stage's table, which held the user records too before
// the user stage had its own group.
type TableCodec struct{}

// Encode implements goka.Codec.
func (TableCodec) Encode(v interface{}) ([]byte, error) {
	if _, ok := v.(*UserRecord); ok {
		return userstage.TableCodec{}.Encode(v)
	}
	return ipstage.TableCodec{}.Encode(v)
}

// Decode implements goka.Codec.
func (TableCodec) Decode(b []byte) (interface{}, error) {
	if len(b) > 0 && b[0] == userstage.KindUserRecord {
		return userstage.TableCodec{}.Decode(b)
	}
	return ipstage.TableCodec{}.Decode(b)
}
