package views

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// follow consumes every partition of topic from its oldest offset until
// ctx ends: begin learns each partition's oldest offset before its first
// record, fn gets the records one at a time (never concurrently), and
// caughtUp, called at the start and after each record, the end offsets
// taken at the start (a view is ready once it has read up to them).
func follow(ctx context.Context, k config.Kafka, what, topic string, log *slog.Logger,
	begin func(p int32, oldest int64), fn func(*sarama.ConsumerMessage), caughtUp func(ends map[int32]int64)) error {
	client, err := sarama.NewClient(k.Brokers, kafkaconfig.Sarama("logmon-"+topic+"-view"))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer consumer.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, topic, err)
	}
	ends := map[int32]int64{}
	msgs := make(chan *sarama.ConsumerMessage, 1024)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, p := range parts {
		oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return fmt.Errorf("%s %s/%d: %w", what, topic, p, err)
		}
		if ends[p], err = client.GetOffset(topic, p, sarama.OffsetNewest); err != nil {
			return fmt.Errorf("%s %s/%d: %w", what, topic, p, err)
		}
		begin(p, oldest)
		pc, err := consumer.ConsumePartition(topic, p, oldest)
		if err != nil {
			return fmt.Errorf("%s %s/%d: %w", what, topic, p, err)
		}
		wg.Go(func() {
			defer pc.Close()
			for {
				select {
				case m := <-pc.Messages():
					select {
					case msgs <- m:
					case <-ctx.Done():
						return
					}
				case err := <-pc.Errors():
					// Sarama retries (leader moves, a broker down) by itself.
					log.Warn(what+": consumer error; retrying", "topic", topic, "partition", p, "err", err)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	caughtUp(ends)
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-msgs:
			fn(m)
			caughtUp(ends)
		}
	}
}
