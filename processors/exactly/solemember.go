package exactly

import (
	"sort"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// SoleMember is a rebalance strategy that gives every partition of the
// group's topics to one member (the first by member id); the others get
// nothing and stand by, taking over at the next rebalance when it leaves.
// A group that must see all its input partitions in one process (the
// tracker's user stage merges them in event time) uses it.
var SoleMember sarama.BalanceStrategy = soleMember{}

type soleMember struct{}

func (soleMember) Name() string { return "logmon-sole-member" }

func (soleMember) Plan(members map[string]sarama.ConsumerGroupMemberMetadata, topics map[string][]int32) (sarama.BalanceStrategyPlan, error) {
	if len(members) == 0 {
		return sarama.BalanceStrategyPlan{}, nil
	}
	ids := make([]string, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	plan := make(sarama.BalanceStrategyPlan, len(ids))
	for _, id := range ids {
		plan[id] = map[string][]int32{} // the others: an empty assignment
	}
	for _, topic := range members[ids[0]].Topics {
		plan.Add(ids[0], topic, topics[topic]...)
	}
	return plan, nil
}

func (soleMember) AssignmentData(string, map[string][]int32, int32) ([]byte, error) { return nil, nil }

// SoleMemberProcessorOptions are ProcessorOptions for a group whose
// partitions all go to one instance at a time (SoleMember); w withholds the
// commits of messages its callbacks give up on.
func SoleMemberProcessorOptions(k config.Kafka, w *Withholder) []goka.ProcessorOption {
	c := kafkaconfig.Sarama("logmon-processor")
	c.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{SoleMember}
	return append(kafkaconfig.ProcessorOptions(k),
		goka.WithConsumerGroupBuilder(w.InOrderCommits(goka.ConsumerGroupBuilderWithConfig(c))))
}

// ProcessorOptions are kafkaconfig.ProcessorOptions with offsets committed
// in order (InOrderCommits): every goka group of the project takes them.
func ProcessorOptions(k config.Kafka) []goka.ProcessorOption {
	return withholderProcessorOptions(k, new(Withholder))
}

func withholderProcessorOptions(k config.Kafka, w *Withholder) []goka.ProcessorOption {
	return append(kafkaconfig.ProcessorOptions(k),
		goka.WithConsumerGroupBuilder(w.InOrderCommits(goka.ConsumerGroupBuilderWithConfig(kafkaconfig.Sarama("logmon-processor")))))
}
