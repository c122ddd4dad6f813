// Package named runs GoMLX graphs whose inputs and outputs are named: the host side passes Tensors by name, the
// graph function receives Nodes by name and binds them to the fields of a typed struct (e.g. uniter.MLMInputs)
// with Bind. It is the one place where named inputs become the positional arguments of a model.Exec.
package named

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Tensors are the host values of a graph's inputs or outputs by name. The inputs of a graph that builds a UNITER
// objective are named after the *graph.Node fields of the objective's input struct, e.g. "InputIDs", "Labels"
// (see Bind).
type Tensors map[string]*tensors.Tensor

// Nodes are the graph values of a graph's inputs or outputs by name.
type Nodes map[string]*graph.Node

var nodeType = reflect.TypeFor[*graph.Node]()

// Bind returns a T whose *graph.Node fields are the inputs of their names, fields of embedded structs included
// (e.g. uniter.MLMInputs.InputIDs from its embedded uniter.Inputs); fields without an input stay nil. An input that
// names no *graph.Node field panics (Exec.Call reports it as an error), so a misspelt input cannot be dropped
// silently.
func Bind[T any](in Nodes) T {
	var x T
	v := reflect.ValueOf(&x).Elem()
	if v.Kind() != reflect.Struct {
		panic(fmt.Sprintf("named: Bind needs a struct type, got %T", x))
	}
	for _, name := range slices.Sorted(maps.Keys(in)) {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Type() != nodeType || !f.CanSet() {
			panic(fmt.Sprintf("named: input %q is not a *graph.Node field of %s", name, v.Type()))
		}
		f.Set(reflect.ValueOf(in[name]))
	}
	return x
}

// Exec is a compiled graph with named inputs and outputs. The inputs are passed to the underlying model.Exec in
// the order of their sorted names, and the graph function receives them by name again, to Bind to its input
// struct. The input names are fixed by the first
// Call; the output names are those the graph function returns.
type Exec struct {
	exec     *model.Exec
	inNames  []string // sorted input names, fixed by the first Call
	outNames []string // sorted output names, fixed when the graph is built
}

// NewExec returns an Exec running fn on the variables of store. fn is called once per distinct set of input
// shapes, when Call first sees it.
func NewExec(backend compute.Backend, store *model.Store, fn func(scope *model.Scope, in Nodes) Nodes) (*Exec, error) {
	e := &Exec{}
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, args []*graph.Node) []*graph.Node {
		in := make(Nodes, len(args))
		for i, name := range e.inNames {
			in[name] = args[i]
		}
		out := fn(scope, in)
		names := slices.Sorted(maps.Keys(out))
		if e.outNames != nil && !slices.Equal(names, e.outNames) {
			panic(fmt.Sprintf("named: the graph returned outputs %v, earlier %v", names, e.outNames))
		}
		e.outNames = names
		nodes := make([]*graph.Node, len(names))
		for i, name := range names {
			if nodes[i] = out[name]; nodes[i] == nil {
				panic(fmt.Sprintf("named: the graph returned a nil output %q", name))
			}
		}
		return nodes
	})
	if err != nil {
		return nil, err
	}
	e.exec = exec
	return e, nil
}

// Call runs the graph on the inputs, compiling it on the first call with their shapes, and returns its outputs by
// name. Every call must give the same input names as the first; graph-building panics are returned as errors.
func (e *Exec) Call(in Tensors) (out Tensors, err error) {
	names, err := e.fixInputNames(in)
	if err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("building the graph: %v", p)
		}
	}()
	args := make([]any, len(names))
	for i, name := range names {
		args[i] = in[name]
	}
	outs, err := e.exec.Call(args...)
	if err != nil {
		return nil, err
	}
	out = make(Tensors, len(outs))
	for i, name := range e.outNames {
		out[name] = outs[i]
	}
	return out, nil
}

// Compile builds and compiles the graph for the shapes of the inputs without running it; a later Call with inputs
// of these shapes runs it directly. The input names are fixed as by Call.
func (e *Exec) Compile(in Tensors) (err error) {
	names, err := e.fixInputNames(in)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("building the graph: %v", p)
		}
	}()
	inShapes := make([]shapes.Shape, len(names))
	for i, name := range names {
		inShapes[i] = in[name].Shape()
	}
	_, err = e.exec.Compile(inShapes...)
	return err
}

// fixInputNames returns the sorted names of in, fixing them on the first call and checking them on later ones.
func (e *Exec) fixInputNames(in Tensors) ([]string, error) {
	names := slices.Sorted(maps.Keys(in))
	if e.inNames == nil {
		e.inNames = names
	} else if !slices.Equal(names, e.inNames) {
		return nil, fmt.Errorf("graph inputs %s, but the graph was built for %s", strings.Join(names, ", "), strings.Join(e.inNames, ", "))
	}
	return names, nil
}

// Finalize releases the compiled graphs.
func (e *Exec) Finalize() { e.exec.Finalize() }
