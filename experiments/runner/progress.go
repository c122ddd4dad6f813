package runner

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports long work: a progress bar with the description (loss, lr, examples/s) when the log writer is a
// terminal, and otherwise nothing but the log lines written with logf.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newProgress starts reporting on w for work of total units, done of which are already done.
func newProgress(w io.Writer, total, done int, what string) *progress {
	p := &progress{w: w}
	if isTerminal(w) && total > 0 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionFullWidth(),
		)
		p.bar.Set(done)
	}
	return p
}

// set moves the bar to done units and shows desc next to it.
func (p *progress) set(done int, desc string) {
	if p.bar != nil {
		p.bar.Describe(desc)
		p.bar.Set(done)
	}
}

// logf writes one log line (above the bar, when there is one).
func (p *progress) logf(format string, args ...any) {
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// finish ends the bar.
func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
