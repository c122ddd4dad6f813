package batch

import "fmt"

// Mix is one entry of a task mixture: a name (e.g. "mlm_coco") and its mix ratio.
type Mix struct {
	Name  string
	Ratio int
}

// TaskSampler draws the task of each sub-batch as ORIG's MetaLoader does: the pool holds every name repeated
// ratio times, and one name is drawn uniformly from it per gradient-accumulation group, so all sub-batches of one
// update share their task. The draw of group g depends only on (seed, g), so a run resumes with SetStep.
type TaskSampler struct {
	pool  []string
	accum int
	seed  uint64
	step  int
}

// NewTaskSampler returns a sampler over mix for updates of accumSteps sub-batches each.
func NewTaskSampler(mix []Mix, accumSteps int, seed uint64) (*TaskSampler, error) {
	if accumSteps < 1 {
		return nil, fmt.Errorf("task sampler: %d gradient-accumulation steps, want ≥ 1", accumSteps)
	}
	s := &TaskSampler{accum: accumSteps, seed: seed}
	seen := map[string]bool{}
	for _, m := range mix {
		if m.Ratio < 1 || m.Name == "" || seen[m.Name] {
			return nil, fmt.Errorf("task sampler: entry %q with ratio %d (names must be distinct and non-empty, ratios ≥ 1)",
				m.Name, m.Ratio)
		}
		seen[m.Name] = true
		for range m.Ratio {
			s.pool = append(s.pool, m.Name)
		}
	}
	if len(s.pool) == 0 {
		return nil, fmt.Errorf("task sampler: empty mixture")
	}
	return s, nil
}

// Next returns the task of the next sub-batch.
func (s *TaskSampler) Next() string {
	group := s.step / s.accum
	s.step++
	return s.pool[newRNG(s.seed, tagMix, uint64(group)).IntN(len(s.pool))]
}

// Step returns the number of sub-batches drawn so far (the state to save for resuming).
func (s *TaskSampler) Step() int { return s.step }

// SetStep makes the sampler continue as if step sub-batches had been drawn.
func (s *TaskSampler) SetStep(step int) { s.step = step }
