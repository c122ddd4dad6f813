package pydata

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Unpickle decodes one pickle (protocols 0 to 5; the binary opcodes, and the text opcodes of protocols 0 and 1
// except the quoted STRING/UNICODE ones) into the values listed for the Bytes type. Any class or function other
// than the NumPy array, dtype and scalar constructors, set, frozenset, bytearray, OrderedDict and _codecs.encode
// is refused, as are persistent ids, extension codes and out-of-band buffers. Bytes after the STOP opcode are
// ignored, as Python's pickle.loads does.
func Unpickle(data []byte) (any, error) {
	u := &unpickler{data: data, memo: map[int]any{}}
	v, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return v, nil
}

// maxMemo bounds memo indices so that a corrupt PUT cannot make a huge table.
const maxMemo = 1 << 26

type unpickler struct {
	data  []byte
	pos   int
	op    int // offset of the current opcode, for messages
	stack []any
	marks []int // stack lengths at each MARK
	memo  map[int]any
}

// mark is what a pickle's MARK leaves on the stack of a protocol-0 INST; never visible in results.
type markObj struct{}

func (u *unpickler) errorf(format string, args ...any) error {
	return fmt.Errorf("opcode %q at byte %d: %s", u.data[u.op], u.op, fmt.Sprintf(format, args...))
}

func (u *unpickler) read(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, u.errorf("needs %d bytes, only %d left (truncated pickle)", n, len(u.data)-u.pos)
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) readUint(n int) (uint64, error) {
	b, err := u.read(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// readLen reads an n-byte little-endian length and checks it against what is left.
func (u *unpickler) readLen(n int) (int, error) {
	v, err := u.readUint(n)
	if err != nil {
		return 0, err
	}
	if v > uint64(len(u.data)-u.pos) {
		return 0, u.errorf("length %d exceeds the %d bytes left (truncated pickle)", v, len(u.data)-u.pos)
	}
	return int(v), nil
}

func (u *unpickler) readLine() (string, error) {
	i := strings.IndexByte(string(u.data[u.pos:]), '\n')
	if i < 0 {
		return "", u.errorf("line without a newline (truncated pickle)")
	}
	s := string(u.data[u.pos : u.pos+i])
	u.pos += i + 1
	return s, nil
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1]) {
		return nil, u.errorf("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1]) {
		return nil, u.errorf("stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark returns the items pushed since the last MARK and removes them and the mark.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.errorf("no MARK on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) put(i int) error {
	if i < 0 || i > maxMemo {
		return u.errorf("memo index %d out of range", i)
	}
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[i] = v
	return nil
}

func (u *unpickler) get(i int) error {
	v, ok := u.memo[i]
	if !ok {
		return u.errorf("memo index %d was never stored", i)
	}
	u.push(v)
	return nil
}

func (u *unpickler) run() (any, error) {
	for {
		if u.pos >= len(u.data) {
			return nil, fmt.Errorf("no STOP opcode before the end (truncated pickle, %d bytes)", len(u.data))
		}
		u.op = u.pos
		op := u.data[u.pos]
		u.pos++
		if op == '.' { // STOP
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			if len(u.marks) > 0 {
				return nil, u.errorf("STOP inside an unclosed MARK")
			}
			return v, nil
		}
		if err := u.step(op); err != nil {
			return nil, err
		}
	}
}

func (u *unpickler) step(op byte) error {
	switch op {
	case 0x80: // PROTO
		p, err := u.readUint(1)
		if err != nil {
			return err
		}
		if p > 5 {
			return u.errorf("unsupported pickle protocol %d", p)
		}
	case 0x95: // FRAME: the frame's bytes follow inline
		if _, err := u.readLen(8); err != nil {
			return err
		}
	case '(':
		u.marks = append(u.marks, len(u.stack))
	case '0': // POP
		if len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1] {
			_, err := u.popMark()
			return err
		}
		_, err := u.pop()
		return err
	case '1': // POP_MARK
		_, err := u.popMark()
		return err
	case '2': // DUP
		v, err := u.top()
		if err != nil {
			return err
		}
		u.push(v)
	case 'N':
		u.push(nil)
	case 0x88:
		u.push(true)
	case 0x89:
		u.push(false)
	case 'J':
		v, err := u.readUint(4)
		if err != nil {
			return err
		}
		u.push(int64(int32(uint32(v))))
	case 'K':
		v, err := u.readUint(1)
		if err != nil {
			return err
		}
		u.push(int64(v))
	case 'M':
		v, err := u.readUint(2)
		if err != nil {
			return err
		}
		u.push(int64(v))
	case 0x8a, 0x8b: // LONG1, LONG4
		n, err := u.readLen(map[byte]int{0x8a: 1, 0x8b: 4}[op])
		if err != nil {
			return err
		}
		b, _ := u.read(n)
		v, err := decodeLong(b)
		if err != nil {
			return u.errorf("%v", err)
		}
		u.push(v)
	case 'I', 'L': // INT, LONG (text)
		line, err := u.readLine()
		if err != nil {
			return err
		}
		switch line {
		case "01":
			u.push(true)
			return nil
		case "00":
			u.push(false)
			return nil
		}
		v, err := strconv.ParseInt(strings.TrimSuffix(line, "L"), 10, 64)
		if err != nil {
			return u.errorf("bad integer %q", line)
		}
		u.push(v)
	case 'G':
		v, err := u.readUint(8)
		if err != nil {
			return err
		}
		u.push(math.Float64frombits(bigEndian64(v)))
	case 'F':
		line, err := u.readLine()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(line, 64)
		if err != nil {
			return u.errorf("bad float %q", line)
		}
		u.push(f)
	case 0x8c, 'X', 0x8d, 'U', 'T', 'C', 'B', 0x8e, 0x96: // strings, bytes, bytearray
		size := map[byte]int{0x8c: 1, 'X': 4, 0x8d: 8, 'U': 1, 'T': 4, 'C': 1, 'B': 4, 0x8e: 8, 0x96: 8}[op]
		n, err := u.readLen(size)
		if err != nil {
			return err
		}
		b, _ := u.read(n)
		switch op {
		case 0x8c, 'X', 0x8d, 'U', 'T': // unicode; U and T are Python 2 str, read as text like np.load does
			u.push(string(b))
		default:
			u.push(Bytes(b))
		}
	case ')':
		u.push(Tuple{})
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op - 0x84)
		if len(u.stack) < n || (len(u.marks) > 0 && len(u.stack)-n < u.marks[len(u.marks)-1]) {
			return u.errorf("stack underflow")
		}
		t := append(Tuple(nil), u.stack[len(u.stack)-n:]...)
		u.stack = u.stack[:len(u.stack)-n]
		u.push(t)
	case 't':
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(Tuple(items))
	case ']':
		u.push(&List{})
	case 'l':
		items, err := u.popMark()
		if err != nil {
			return err
		}
		l := List(items)
		u.push(&l)
	case 'a', 'e': // APPEND, APPENDS
		items, err := u.popItems(op == 'e', 1)
		if err != nil {
			return err
		}
		l, err := topAs[*List](u, "appending to")
		if err != nil {
			return err
		}
		*l = append(*l, items...)
	case '}':
		u.push(NewDict())
	case 'd':
		items, err := u.popMark()
		if err != nil {
			return err
		}
		d := NewDict()
		if err := u.setItems(d, items); err != nil {
			return err
		}
		u.push(d)
	case 's', 'u': // SETITEM, SETITEMS
		items, err := u.popItems(op == 'u', 2)
		if err != nil {
			return err
		}
		d, err := topAs[*Dict](u, "setting items of")
		if err != nil {
			return err
		}
		return u.setItems(d, items)
	case 0x8f:
		u.push(&Set{})
	case 0x90: // ADDITEMS
		items, err := u.popItems(true, 0)
		if err != nil {
			return err
		}
		set, err := topAs[*Set](u, "adding items to")
		if err != nil {
			return err
		}
		*set = append(*set, items...)
	case 0x91: // FROZENSET
		items, err := u.popMark()
		if err != nil {
			return err
		}
		s := Set(items)
		u.push(&s)
	case 'p', 'g': // PUT, GET (text)
		line, err := u.readLine()
		if err != nil {
			return err
		}
		i, err := strconv.Atoi(line)
		if err != nil {
			return u.errorf("bad memo index %q", line)
		}
		if op == 'p' {
			return u.put(i)
		}
		return u.get(i)
	case 'q', 'r', 'h', 'j': // BINPUT, LONG_BINPUT, BINGET, LONG_BINGET
		size := 1
		if op == 'r' || op == 'j' {
			size = 4
		}
		i, err := u.readUint(size)
		if err != nil {
			return err
		}
		if op == 'q' || op == 'r' {
			return u.put(int(i))
		}
		return u.get(int(i))
	case 0x94: // MEMOIZE
		return u.put(len(u.memo))
	case 'c': // GLOBAL
		mod, err := u.readLine()
		if err != nil {
			return err
		}
		name, err := u.readLine()
		if err != nil {
			return err
		}
		g, err := findGlobal(mod, name)
		if err != nil {
			return u.errorf("%v", err)
		}
		u.push(g)
	case 0x93: // STACK_GLOBAL
		name, err1 := u.pop()
		mod, err2 := u.pop()
		if err1 != nil || err2 != nil {
			return u.errorf("stack underflow")
		}
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return u.errorf("STACK_GLOBAL needs two strings, got %s and %s", TypeName(mod), TypeName(name))
		}
		g, err := findGlobal(ms, ns)
		if err != nil {
			return u.errorf("%v", err)
		}
		u.push(g)
	case 'R': // REDUCE
		args, err1 := u.pop()
		fn, err2 := u.pop()
		if err1 != nil || err2 != nil {
			return u.errorf("stack underflow")
		}
		t, ok := args.(Tuple)
		if !ok {
			return u.errorf("REDUCE arguments are a %s, not a tuple", TypeName(args))
		}
		f, ok := fn.(global)
		if !ok {
			return u.errorf("REDUCE calls a %s, not a known function", TypeName(fn))
		}
		v, err := f.call(t)
		if err != nil {
			return u.errorf("%s: %v", f.name(), err)
		}
		u.push(v)
	case 'b': // BUILD
		state, err := u.pop()
		if err != nil {
			return err
		}
		obj, err := u.top()
		if err != nil {
			return err
		}
		b, ok := obj.(builder)
		if !ok {
			return u.errorf("BUILD on a %s", TypeName(obj))
		}
		if err := b.build(state); err != nil {
			return u.errorf("%v", err)
		}
	case 0x98: // READONLY_BUFFER: no effect on decoded values
	default:
		return u.errorf("opcode not supported by this reader (persistent ids, extensions, out-of-band buffers, " +
			"objects built with NEWOBJ/INST and protocol-0 quoted strings are refused)")
	}
	return nil
}

// popItems pops the items since the last MARK (mark), else the last n items.
func (u *unpickler) popItems(mark bool, n int) ([]any, error) {
	if mark {
		return u.popMark()
	}
	items := make([]any, n)
	for i := n - 1; i >= 0; i-- {
		v, err := u.pop()
		if err != nil {
			return nil, err
		}
		items[i] = v
	}
	return items, nil
}

// topAs returns the top of the stack as a T, the container an opcode adds to (doing names the opcode's action).
func topAs[T any](u *unpickler, doing string) (T, error) {
	var zero T
	t, err := u.top()
	if err != nil {
		return zero, err
	}
	c, ok := t.(T)
	if !ok {
		return zero, u.errorf("%s a %s", doing, TypeName(t))
	}
	return c, nil
}

// setItems sets alternating keys and values into d.
func (u *unpickler) setItems(d *Dict, items []any) error {
	if len(items)%2 != 0 {
		return u.errorf("odd number of items (%d) for a dict", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		if err := d.Set(items[i], items[i+1]); err != nil {
			return u.errorf("%v", err)
		}
	}
	return nil
}

// decodeLong decodes a little-endian two's-complement integer of LONG1/LONG4; it must fit int64.
func decodeLong(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	rev := make([]byte, len(b))
	for i := range b {
		rev[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(rev)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if !v.IsInt64() {
		return 0, fmt.Errorf("integer %s does not fit 64 bits", v)
	}
	return v.Int64(), nil
}

// bigEndian64 reverses the byte order of a value read little-endian (BINFLOAT is big-endian).
func bigEndian64(v uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return binary.BigEndian.Uint64(b[:])
}
