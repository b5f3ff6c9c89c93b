package runtime

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// ScriptError is a failure of user JavaScript: a thrown error, a rejected promise, a
// time limit or a stack overflow. Message is what onError receives; Location is
// file:line:col in the original source (after source maps); Stack is the JS stack.
type ScriptError struct {
	Message  string
	Location string
	Stack    string
}

func (e *ScriptError) Error() string {
	if e.Location != "" && !strings.Contains(e.Message, e.Location) {
		return e.Message + " (" + e.Location + ")"
	}
	return e.Message
}

// pcSuffix strips goja's program counters from stack lines: "f.js:3:9(12)" -> "f.js:3:9".
var pcSuffix = regexp.MustCompile(`(:\d+:\d+)\(\d+\)`)

// stackLocation finds the first file:line:col in a stack text.
var stackLocation = regexp.MustCompile(`(?m)at (?:[^\n(]*\()?([^\s()]+:\d+:\d+)\)?`)

// scriptError explains err, an error from running JavaScript (context names what ran).
func scriptError(context string, err error, timeout time.Duration) *ScriptError {
	var se *ScriptError
	if errors.As(err, &se) {
		return se
	}
	var intr *goja.InterruptedError
	if errors.As(err, &intr) {
		e := &ScriptError{Stack: framesText(intr.Stack())}
		e.Location = firstLocation(intr.Stack())
		e.Message = fmt.Sprintf("%s exceeded the time limit of %s and was interrupted", context, timeout)
		return e
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return &ScriptError{Message: "RangeError: maximum call stack size exceeded", Location: firstLocation(so.Stack()), Stack: framesText(so.Stack())}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		e := valueError(ex.Value())
		if st := ex.Stack(); len(st) > 0 {
			e.Stack = framesText(st)
			if loc := firstLocation(st); loc != "" {
				e.Location = loc
			}
		}
		return e
	}
	return &ScriptError{Message: err.Error()}
}

// valueError explains a thrown or rejected JavaScript value.
func valueError(v goja.Value) *ScriptError {
	if v == nil || goja.IsUndefined(v) {
		return &ScriptError{Message: "undefined"}
	}
	e := &ScriptError{Message: v.String()}
	if obj, ok := v.(*goja.Object); ok {
		if st := obj.Get("stack"); st != nil && !goja.IsUndefined(st) {
			stack := pcSuffix.ReplaceAllString(st.String(), "$1")
			if m := stackLocation.FindStringSubmatch(stack); m != nil {
				e.Location = fileName(m[1])
			}
			if i := strings.Index(stack, "\n"); i >= 0 {
				frames := strings.Split(strings.TrimSpace(stack[i+1:]), "\n")
				for j, f := range frames {
					frames[j] = fileName(f)
				}
				e.Stack = strings.Join(capFrames(frames), "\n")
			}
		}
	}
	return e
}

func firstLocation(frames []goja.StackFrame) string {
	for _, f := range frames {
		if p := f.Position(); p.Filename != "" {
			return fmt.Sprintf("%s:%d:%d", fileName(p.Filename), p.Line, p.Column)
		}
	}
	return ""
}

// maxStackFrames bounds the frames a logged stack shows: a stack overflow has as
// many frames as the call stack limit allows, most of them the same.
const maxStackFrames = 20

func framesText(frames []goja.StackFrame) string {
	var lines []string
	for _, f := range frames {
		p := f.Position()
		if p.Filename == "" {
			continue
		}
		lines = append(lines, fmt.Sprintf("at %s (%s:%d:%d)", f.FuncName(), fileName(p.Filename), p.Line, p.Column))
	}
	return strings.Join(capFrames(lines), "\n")
}

// capFrames keeps the first maxStackFrames lines of a stack and says how many
// were left out.
func capFrames(lines []string) []string {
	if len(lines) <= maxStackFrames {
		return lines
	}
	return append(lines[:maxStackFrames:maxStackFrames], fmt.Sprintf("... %d more frames", len(lines)-maxStackFrames))
}

// logError logs a script failure with its stack; context says what was running
// ("onmessage", "timer", "unhandled rejection").
func (w *Worker) logError(context string, ev *Event, err error) {
	se := scriptError(context, err, w.opts.EventTimeout)
	attrs := []any{"in", context, "error", se.Message}
	if se.Location != "" {
		attrs = append(attrs, "at", se.Location)
	}
	if ev != nil {
		attrs = append(attrs, "endpoint", ev.Endpoint, "event", ev.Method)
		if ev.Conn != nil {
			attrs = append(attrs, "conn", ev.Conn.ID)
		}
		if ev.Client != "" {
			attrs = append(attrs, "client", ev.Client)
		}
	}
	if se.Stack != "" {
		attrs = append(attrs, "stack", se.Stack)
	}
	w.log.Error("script error", attrs...)
}
