package runner

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/uniter-go/uniter/data/batch"
	"github.com/uniter-go/uniter/uniter/named"
)

// builder returns the batch builder of a split (micro-batches of batch_size / update_frequency examples).
func (r *Runner) builder(split string) (*batch.Builder, error) {
	if b, ok := r.builders[split]; ok {
		return b, nil
	}
	src, err := r.data.Split(split)
	if err != nil {
		return nil, err
	}
	s, d, mc := r.s, r.data, r.s.modelConfig
	bs := s.batchSize / s.updateFrequency
	cfg := batch.Config{
		BatchSize: bs, TextLen: d.TextLen, NumRegions: d.NumRegions, FeatDim: r.model.ImgDim,
		LabelDim: r.model.ImgLabelDim, NumAnswers: r.model.NumAnswers,
		// K (masked positions) is rounded up to a multiple of the batch size: a few shapes, few compilations.
		Bucket:  bs,
		MLMProb: d.MaskProbability, MRMProb: mc.MaskProbability, ITMNegProb: mc.ITMNegProb,
		Tokens: batch.TokenIDsOf(d.Tokenizer),
	}
	b, err := batch.NewBuilder(cfg, src)
	if err != nil {
		return nil, fmt.Errorf("dataset %s split %s: %w", d.Name, split, err)
	}
	r.builders[split] = b
	return b, nil
}

// taskSeed derives the data seed of the i-th task from the run seed.
func taskSeed(seed int64, i int) uint64 { return uint64(seed)*1_000_003 + uint64(i) }

// intervalStats accumulates the training metrics between two log lines.
type intervalStats struct {
	steps, examples int
	total, norm     float64
	parts           map[string]float64
	partSteps       map[string]int
	start           time.Time
}

func newIntervalStats() *intervalStats {
	return &intervalStats{parts: map[string]float64{}, partSteps: map[string]int{}, start: time.Now()}
}

// train runs updates until training.max_updates (or early stopping), evaluating and checkpointing on the way.
func (r *Runner) train(ctx context.Context) error {
	s := r.s
	b, err := r.builder(SplitTrain)
	if err != nil {
		return err
	}
	_, valErr := r.data.Split(SplitVal)
	hasVal := valErr == nil
	its := map[string]*batch.Iterator{}
	byName := map[string]*task{}
	var mix []batch.Mix
	for i, t := range r.tasks {
		it, err := batch.NewIterator(b, batch.IterOptions{
			Task: t.batch, Seed: taskSeed(s.seed, i), Shuffle: true, DropLast: true,
			Prefetch: max(1, s.numWorkers), Start: r.state.Data[t.name],
		})
		if err != nil {
			return fmt.Errorf("training data for %s: %w", t.name, err)
		}
		defer it.Close()
		its[t.name], byName[t.name] = it, t
		mix = append(mix, batch.Mix{Name: t.name, Ratio: t.weight})
	}
	var sampler *batch.TaskSampler
	if s.modelConfig.DoPretraining {
		if sampler, err = batch.NewTaskSampler(mix, s.updateFrequency, uint64(s.seed)); err != nil {
			return err
		}
		sampler.SetStep(r.state.SamplerStep)
	}

	prog := newProgress(r.Log, s.maxUpdates, r.state.Step, "training")
	defer prog.finish()
	prog.logf("training %s on %s (%d examples) from update %d to %d, batch %d × %d, save dir %s",
		modelName(s), s.dataset, len(r.data.Splits[SplitTrain].Examples), r.state.Step, s.maxUpdates, s.batchSize/s.updateFrequency, s.updateFrequency, r.saveDir)
	stats := newIntervalStats()
	for r.state.Step < s.maxUpdates {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("training interrupted at update %d (resume with checkpoint.resume=true): %w", r.state.Step, err)
		}
		lr := r.sched.LR(r.state.Step + 1)
		var loss, norm float64
		var t *task
		for micro := range s.updateFrequency {
			name := r.tasks[0].name
			if sampler != nil {
				name = sampler.Next()
			}
			t = byName[name]
			bt, err := its[name].Next()
			if err != nil {
				return fmt.Errorf("training data for %s: %w", name, err)
			}
			ex, err := r.execsFor(t)
			if err != nil {
				return err
			}
			last := micro == s.updateFrequency-1
			var outs named.Tensors
			if last {
				outs, err = call(ex.update, t, bt, float32(lr))
			} else {
				outs, err = call(ex.accum, t, bt)
			}
			if err != nil {
				return err
			}
			loss += scalar(outs["loss"]) / float64(s.updateFrequency)
			if last {
				norm = scalar(outs["grad_norm"])
			}
			for _, p := range t.parts {
				stats.parts[p] += scalar(outs[p]) / float64(s.updateFrequency)
			}
			for _, ok := range bt.ExampleOK {
				if ok {
					stats.examples++
				}
			}
			r.state.Data[name] = its[name].State()
		}
		if sampler != nil {
			r.state.SamplerStep = sampler.Step()
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) || math.IsNaN(norm) || math.IsInf(norm, 0) {
			hint := "lower optimizer.params.lr"
			if !s.clip {
				hint += " or set training.clip_gradients=true"
			}
			return fmt.Errorf("training stopped: the %s loss is %g (gradient norm %g) at update %d with lr %.3g; %s; %s",
				t.name, loss, norm, r.state.Step+1, lr, r.lastGood(), hint)
		}
		r.state.Step++
		stats.steps++
		stats.total += loss
		stats.norm += norm
		for _, p := range t.parts {
			stats.partSteps[p]++
		}
		step := r.state.Step
		prog.set(step, fmt.Sprintf("loss %.4f lr %.2e %.0f ex/s", loss, lr, float64(stats.examples)/time.Since(stats.start).Seconds()))
		if step%s.logInterval == 0 || step == s.maxUpdates {
			if err := r.logTrain(prog, stats, lr); err != nil {
				return err
			}
			stats = newIntervalStats()
		}
		improved, stop := false, false
		if hasVal && (step%s.evalInterval == 0 || step == s.maxUpdates) {
			if improved, stop, err = r.periodicEvaluation(prog); err != nil {
				return err
			}
		}
		if step%s.ckptInterval == 0 || improved || stop || step == s.maxUpdates {
			path, err := saveCheckpoint(r.saveDir, r.store, &r.state, s.maxToKeep)
			if err != nil {
				return err
			}
			r.savedStep = step
			if improved {
				if err := markBest(r.saveDir, path); err != nil {
					return err
				}
			}
		}
		if stop {
			prog.logf("early stopping at update %d: %s has not improved for %d updates (best %.4g at update %d)",
				step, s.criteria, s.patience, r.state.Best.Value, r.state.Best.Step)
			break
		}
	}
	if r.savedStep != r.state.Step && r.state.Step > 0 {
		if _, err := saveCheckpoint(r.saveDir, r.store, &r.state, s.maxToKeep); err != nil {
			return err
		}
		r.savedStep = r.state.Step
	}
	return nil
}

// lastGood describes the checkpoint a failed run can resume from.
func (r *Runner) lastGood() string {
	if r.savedStep < 0 {
		return "no checkpoint was written"
	}
	return fmt.Sprintf("the last good checkpoint %s (update %d) is kept", filepath.Join(r.saveDir, currentName), r.savedStep)
}

// modelName names the model being trained, for log lines.
func modelName(s *settings) string {
	if s.modelConfig.DoPretraining {
		return fmt.Sprintf("UNITER pretraining (%v)", s.modelConfig.Tasks)
	}
	return "UNITER " + s.modelConfig.Tasks[0] + " classifier"
}

// logTrain writes the training record of the interval: mean losses, grad norm, lr and throughput.
func (r *Runner) logTrain(prog *progress, st *intervalStats, lr float64) error {
	m := map[string]float64{
		"train/total_loss":       st.total / float64(st.steps),
		"train/grad_norm":        st.norm / float64(st.steps),
		"train/lr":               lr,
		"train/examples_per_sec": float64(st.examples) / time.Since(st.start).Seconds(),
	}
	for p, v := range st.parts {
		m["train/"+r.s.dataset+"/"+p] = v / float64(st.partSteps[p])
	}
	prog.logf("update %d/%d: loss %.4f lr %.3g %.0f examples/s", r.state.Step, r.s.maxUpdates, m["train/total_loss"], lr, m["train/examples_per_sec"])
	return r.emit(m)
}

// periodicEvaluation evaluates on val, updates the best value of the early-stop criteria and says whether it
// improved and whether training should stop.
func (r *Runner) periodicEvaluation(prog *progress) (improved, stop bool, err error) {
	m, err := r.evaluateAndLog(SplitVal)
	if err != nil {
		return false, false, err
	}
	r.state.Evaluation = m
	key := "val/" + r.s.criteria
	v, ok := m[key]
	if !ok {
		return false, false, fmt.Errorf("config key training.early_stop.criteria: %q is not a validation metric (have: %s)", r.s.criteria, FormatMetrics(m))
	}
	best := &r.state.Best
	if best.Step == 0 || (r.s.minimize && v < best.Value) || (!r.s.minimize && v > best.Value) {
		best.Step, best.Value, improved = r.state.Step, v, true
	}
	prog.logf("update %d: %s", r.state.Step, FormatMetrics(m))
	stop = r.s.earlyStop && r.state.Step-best.Step >= r.s.patience
	return improved, stop, nil
}
