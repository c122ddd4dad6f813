package batch

import "testing"

// Invariant 10: task frequencies follow the mix ratios; one task per accumulation group; resumable.
func TestTaskSamplerFrequencies(t *testing.T) {
	mix := []Mix{{"itm_coco", 6}, {"mlm_coco", 8}, {"mrfr_coco", 4}, {"mrckl_coco", 4}}
	const accum, groups = 3, 20000
	s, err := NewTaskSampler(mix, accum, 42)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for g := range groups {
		task := s.Next()
		for k := 1; k < accum; k++ {
			if other := s.Next(); other != task {
				t.Fatalf("group %d: sub-batch %d drew %q after %q", g, k, other, task)
			}
		}
		counts[task]++
	}
	for _, m := range mix {
		checkRate(t, m.Name+" frequency", counts[m.Name], groups, float64(m.Ratio)/22, 0.02)
	}
	if s.Step() != accum*groups {
		t.Errorf("Step = %d, want %d", s.Step(), accum*groups)
	}
}

func TestTaskSamplerResume(t *testing.T) {
	mix := []Mix{{"a", 1}, {"b", 2}, {"c", 3}}
	s, _ := NewTaskSampler(mix, 2, 9)
	var first []string
	for range 50 {
		first = append(first, s.Next())
	}
	r, _ := NewTaskSampler(mix, 2, 9)
	r.SetStep(17) // mid-group
	for i := 17; i < 50; i++ {
		if got := r.Next(); got != first[i] {
			t.Fatalf("resumed at 17: step %d drew %q, want %q", i, got, first[i])
		}
	}
	other, _ := NewTaskSampler(mix, 2, 10)
	diff := 0
	for i := range 50 {
		if other.Next() != first[i] {
			diff++
		}
	}
	if diff == 0 {
		t.Error("another seed gave the same 50 draws")
	}
}

func TestTaskSamplerBadInput(t *testing.T) {
	for _, tc := range []struct {
		mix   []Mix
		accum int
	}{
		{nil, 1},
		{[]Mix{{"a", 1}}, 0},
		{[]Mix{{"a", 0}}, 1},
		{[]Mix{{"", 1}}, 1},
		{[]Mix{{"a", 1}, {"a", 2}}, 1},
	} {
		if _, err := NewTaskSampler(tc.mix, tc.accum, 1); err == nil {
			t.Errorf("NewTaskSampler(%v, %d): want an error", tc.mix, tc.accum)
		}
	}
}
