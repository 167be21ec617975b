package exactly

import (
	"testing"

	"github.com/IBM/sarama"
)

// Every partition of every topic goes to the first member by id; the
// others get an empty assignment, and the plan does not depend on map order.
func TestSoleMemberGivesEverythingToOne(t *testing.T) {
	topics := map[string][]int32{"ssh-log": {0, 1, 2}, "g-users-loop": {0, 1, 2}}
	members := map[string]sarama.ConsumerGroupMemberMetadata{
		"logmon-b-2": {Topics: []string{"ssh-log", "g-users-loop"}},
		"logmon-a-9": {Topics: []string{"ssh-log", "g-users-loop"}},
		"logmon-c-1": {Topics: []string{"ssh-log", "g-users-loop"}},
	}
	for range 5 {
		plan, err := SoleMember.Plan(members, topics)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan) != 3 {
			t.Fatalf("plan for %d members, want 3: %v", len(plan), plan)
		}
		for id, got := range plan {
			want := 0
			if id == "logmon-a-9" {
				want = 3
			}
			for topic := range topics {
				if len(got[topic]) != want {
					t.Errorf("member %s, topic %s: partitions %v, want %d", id, topic, got[topic], want)
				}
			}
		}
	}
	if plan, err := SoleMember.Plan(nil, topics); err != nil || len(plan) != 0 {
		t.Errorf("no members: %v, %v", plan, err)
	}
}
