package deflate

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"sync"
)

// A DEFLATE (RFC 1951) decompressor made for session payloads: the whole
// compressed stream is in memory and so is the output, which never exceeds a
// limit the caller gives. compress/flate's reader is built for streams: it
// reads its input one byte at a time through an io.ByteReader, decodes into
// a 32 KB window that it copies out again, and allocates on each Reset and on
// each dynamic block with long codes. This one reads 64 bits at a time from
// the input slice, writes straight into the output, and once pooled allocates
// nothing.
//
// It accepts exactly the streams compress/flate accepts and yields the same
// bytes (FuzzDecompressDifferential): stored, fixed and dynamic blocks;
// complete Huffman codes, or a code of a single one-bit code as zlib writes
// for a lone distance, or an empty code that fails when it is used;
// distances within the output written so far (there is no preset
// dictionary). Bytes after the final block are ignored, as compress/flate
// ignores them.

var (
	// ErrCorrupt is returned for a stream that is not valid DEFLATE, or that
	// ends before its final block does.
	ErrCorrupt = errors.New("deflate: corrupt or truncated stream")
	// ErrTooLarge is returned when a stream inflates past the limit.
	ErrTooLarge = errors.New("deflate: stream inflates past the limit")
)

const (
	maxCodeBits = 15  // longest literal/length and distance code
	numLitLen   = 286 // literal/length symbols a dynamic block may define
	numDist     = 30  // distance symbols a dynamic block may define
	numCodeLen  = 19  // code-length symbols
	endOfBlock  = 256

	litPrimaryBits  = 9 // bits of the first-level table of a literal/length code
	distPrimaryBits = 8 // and of a distance or code-length code

	// A table entry is sym<<16 | flags | length. length 0 is no code.
	entryLink = 1 << 4 // the entry points to a second-level table at sym
	lenMask   = 0xf
)

// codeLenOrder is the order of the code-length code's lengths in a dynamic
// block header.
var codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// Base values and extra bits of the length symbols 257..285 and of the
// distance symbols 0..29 (RFC 1951 section 3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// A table decodes one Huffman code: the first primaryBits bits of the input
// index primary; a code longer than that continues in a second-level table
// of links, indexed by the next subBits bits.
type table struct {
	primary     []uint32
	links       []uint32
	primaryBits uint
	subBits     uint
}

// build makes t the decoding table of the canonical code with the given
// lengths, into t's own storage (reused). It reports false for a code that
// compress/flate refuses: oversubscribed, or incomplete unless it is a single
// code of one bit. An empty code (no lengths) is accepted; decoding with it
// fails.
func (t *table) build(lengths []uint8, maxPrimary uint) bool {
	var count [maxCodeBits + 1]uint16
	for _, n := range lengths {
		count[n]++
	}
	count[0] = 0
	maxLen := uint(0)
	left := 1
	for n := uint(1); n <= maxCodeBits; n++ {
		left = left<<1 - int(count[n])
		if left < 0 {
			return false // oversubscribed
		}
		if count[n] != 0 {
			maxLen = n
		}
	}
	if left != 0 && maxLen != 0 && !(maxLen == 1 && count[1] == 1) {
		return false // incomplete
	}
	t.primaryBits = min(maxLen, maxPrimary)
	t.subBits = maxLen - t.primaryBits
	t.primary = grow(t.primary, 1<<t.primaryBits)
	clear(t.primary)
	t.links = t.links[:0]
	var next [maxCodeBits + 1]uint32
	code := uint32(0)
	for n := 1; n <= maxCodeBits; n++ {
		code = (code + uint32(count[n-1])) << 1
		next[n] = code
	}
	pb := t.primaryBits
	for sym, n := range lengths {
		if n == 0 {
			continue
		}
		c := next[n]
		next[n]++
		// Codes are packed starting with their most significant bit: the
		// table is indexed by the code's bits reversed.
		r := uint32(bits.Reverse16(uint16(c))) >> (16 - uint(n))
		e := uint32(sym)<<16 | uint32(n)
		if uint(n) <= pb {
			for i := r; i < 1<<pb; i += 1 << n {
				t.primary[i] = e
			}
			continue
		}
		p := r & (1<<pb - 1)
		link := t.primary[p]
		if link&entryLink == 0 {
			link = uint32(len(t.links))<<16 | entryLink
			t.primary[p] = link
			t.links = append(t.links, make([]uint32, 1<<t.subBits)...)
		}
		sub := t.links[link>>16 : link>>16+1<<t.subBits]
		for i := r >> pb; i < 1<<t.subBits; i += 1 << (uint(n) - pb) {
			sub[i] = e
		}
	}
	return true
}

// grow returns s resized to n, reallocated only when its capacity is short.
func grow(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	return s[:n]
}

// lookup returns the entry for the code at the start of b: its symbol and
// length, length 0 when no code starts so.
func (t *table) lookup(b uint64) uint32 {
	e := t.primary[b&(1<<t.primaryBits-1)]
	if e&entryLink != 0 {
		e = t.links[e>>16+uint32(b>>t.primaryBits)&(1<<t.subBits-1)]
	}
	return e
}

// The fixed codes of RFC 1951 section 3.2.6. The distance code has 32
// five-bit codes; 30 and 31 are refused when they occur.
var fixedLit, fixedDist = func() (lit, dist table) {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	var d [32]uint8
	for i := range d {
		d[i] = 5
	}
	lit.build(l[:], litPrimaryBits)
	dist.build(d[:], distPrimaryBits)
	return lit, dist
}()

// decoder is the state of one decompression; pooled.
type decoder struct {
	in    []byte
	pos   int    // next byte of in to load into the bit buffer
	bits  uint64 // loaded bits not consumed yet, the next one lowest
	nbits uint   // number of loaded bits not consumed yet
	pad   uint   // of those, zero bits loaded past the end of in

	out   []byte // the output: out[:n] written, out grows up to limit
	start int    // where this stream's output starts in out
	n     int
	limit int

	lit, dist, codeLen table
	lengths            [numLitLen + numDist]uint8
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// Decompress appends to dst the decompression of the raw DEFLATE stream src.
// It returns ErrTooLarge as soon as more than limit bytes would be appended,
// and ErrCorrupt for any stream compress/flate refuses. On error dst's
// contents past its length are unspecified. With cap(dst)-len(dst) at least
// limit, it allocates nothing.
func Decompress(dst, src []byte, limit int) ([]byte, error) {
	d := decoders.Get().(*decoder)
	out, err := d.decompress(dst, src, limit)
	decoders.Put(d)
	return out, err
}

// decompress is Decompress with the decoder d.
func (d *decoder) decompress(dst, src []byte, limit int) ([]byte, error) {
	d.in, d.pos, d.bits, d.nbits, d.pad = src, 0, 0, 0, 0
	d.out, d.start, d.n, d.limit = dst[:cap(dst)], len(dst), len(dst), len(dst)+limit
	err := d.run()
	out := d.out[:d.n]
	d.in, d.out = nil, nil
	if err != nil {
		return dst, err
	}
	return out, nil
}

// refill loads input until at least 57 bits are in the buffer, zero bits
// past the end of the input (counted in pad, so that consuming them is
// noticed).
func (d *decoder) refill() {
	if d.pos+8 <= len(d.in) {
		// Whole bytes that fit; the bits of a partly loaded byte above
		// nbits are loaded again, in the same place, by the next refill.
		d.bits |= binary.LittleEndian.Uint64(d.in[d.pos:]) << d.nbits
		k := (63 - d.nbits) >> 3
		d.pos += int(k)
		d.nbits += k << 3
		return
	}
	for d.nbits <= 56 {
		if d.pos < len(d.in) {
			d.bits |= uint64(d.in[d.pos]) << d.nbits
			d.pos++
		} else {
			d.pad += 8
		}
		d.nbits += 8
	}
}

// take consumes and returns n bits (n <= 32); the buffer holds them.
func (d *decoder) take(n uint) uint32 {
	v := uint32(d.bits & (1<<n - 1))
	d.bits >>= n
	d.nbits -= n
	return v
}

// truncated reports whether bits past the end of the input were consumed.
func (d *decoder) truncated() bool { return d.nbits < d.pad }

func (d *decoder) run() error {
	for {
		d.refill()
		final := d.take(1)
		var err error
		switch d.take(2) {
		case 0:
			err = d.stored()
		case 1:
			err = d.huffman(&fixedLit, &fixedDist)
		case 2:
			if err = d.readCodes(); err == nil {
				err = d.huffman(&d.lit, &d.dist)
			}
		default:
			err = ErrCorrupt
		}
		if err != nil {
			return err
		}
		if final == 1 {
			return nil
		}
	}
}

// stored copies a stored block, after the block header's bits.
func (d *decoder) stored() error {
	if d.truncated() {
		return ErrCorrupt
	}
	// Skip to a byte boundary; the bytes loaded but not consumed are given
	// back to the input.
	d.take(d.nbits & 7)
	d.pos -= int(d.nbits-d.pad) >> 3
	d.bits, d.nbits, d.pad = 0, 0, 0
	if len(d.in)-d.pos < 4 {
		return ErrCorrupt
	}
	size := int(binary.LittleEndian.Uint16(d.in[d.pos:]))
	if ^uint16(size) != binary.LittleEndian.Uint16(d.in[d.pos+2:]) {
		return ErrCorrupt
	}
	d.pos += 4
	avail := min(size, len(d.in)-d.pos)
	if err := d.room(avail); err != nil {
		return err
	}
	if avail < size {
		return ErrCorrupt
	}
	d.n += copy(d.out[d.n:], d.in[d.pos:d.pos+size])
	d.pos += size
	return nil
}

// room makes room in out for k more bytes, or returns ErrTooLarge.
func (d *decoder) room(k int) error {
	if d.n+k <= len(d.out) {
		return nil
	}
	if d.n+k > d.limit {
		return ErrTooLarge
	}
	grown := make([]byte, min(max(2*len(d.out), d.n+k, 512), d.limit))
	copy(grown, d.out[:d.n])
	d.out = grown
	return nil
}

// readCodes reads a dynamic block's code definitions into d.lit and d.dist.
func (d *decoder) readCodes() error {
	d.refill()
	nlit := int(d.take(5)) + 257
	ndist := int(d.take(5)) + 1
	nclen := int(d.take(4)) + 4
	if nlit > numLitLen || ndist > numDist {
		return ErrCorrupt
	}
	var cl [numCodeLen]uint8
	for i := range nclen {
		if i%16 == 0 {
			d.refill() // 16 lengths of 3 bits at most per refill
		}
		cl[codeLenOrder[i]] = uint8(d.take(3))
	}
	if !d.codeLen.build(cl[:], distPrimaryBits) {
		return ErrCorrupt
	}
	lengths := d.lengths[:nlit+ndist]
	for i := 0; i < len(lengths); {
		d.refill()
		if d.truncated() {
			return ErrCorrupt
		}
		e := d.codeLen.lookup(d.bits)
		n := uint(e & lenMask)
		if n == 0 {
			return ErrCorrupt
		}
		d.take(n)
		sym := e >> 16
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return ErrCorrupt
			}
			rep, v = 3+int(d.take(2)), lengths[i-1]
		case 17:
			rep = 3 + int(d.take(3))
		default:
			rep = 11 + int(d.take(7))
		}
		if i+rep > len(lengths) {
			return ErrCorrupt
		}
		for range rep {
			lengths[i] = v
			i++
		}
	}
	if d.truncated() {
		return ErrCorrupt
	}
	if !d.lit.build(lengths[:nlit], litPrimaryBits) || !d.dist.build(lengths[nlit:], distPrimaryBits) {
		return ErrCorrupt
	}
	return nil
}

// huffman decodes a block's symbols with the codes lit and dist, up to and
// including its end-of-block code.
func (d *decoder) huffman(lit, dist *table) error {
	for {
		// One refill is enough for a symbol: a length code and its extra
		// bits, a distance code and its extra bits are 15+5+15+13 = 48 bits.
		d.refill()
		if d.truncated() {
			return ErrCorrupt
		}
		e := lit.lookup(d.bits)
		n := uint(e & lenMask)
		if n == 0 {
			return ErrCorrupt
		}
		d.take(n)
		sym := int(e >> 16)
		if sym < endOfBlock {
			if d.n == len(d.out) {
				if err := d.room(1); err != nil {
					return err
				}
			}
			d.out[d.n] = byte(sym)
			d.n++
			continue
		}
		if sym == endOfBlock {
			if d.truncated() {
				return ErrCorrupt
			}
			return nil
		}
		sym -= 257
		if sym >= len(lengthBase) {
			return ErrCorrupt
		}
		length := int(lengthBase[sym]) + int(d.take(uint(lengthExtra[sym])))
		e = dist.lookup(d.bits)
		n = uint(e & lenMask)
		if n == 0 {
			return ErrCorrupt
		}
		d.take(n)
		dsym := int(e >> 16)
		if dsym >= len(distBase) {
			return ErrCorrupt
		}
		distance := int(distBase[dsym]) + int(d.take(uint(distExtra[dsym])))
		if distance > d.n-d.start {
			return ErrCorrupt // before the start of the output
		}
		if d.truncated() {
			return ErrCorrupt
		}
		if err := d.room(length); err != nil {
			return err
		}
		d.copyBack(distance, length)
	}
}

// copyBack appends length bytes copied from distance bytes back; out has
// room. The source and the destination overlap when distance < length: the
// bytes repeat with period distance.
func (d *decoder) copyBack(distance, length int) {
	from, to := d.n-distance, d.n
	d.n += length
	if distance >= length {
		copy(d.out[to:d.n], d.out[from:from+length])
		return
	}
	// Copy what is there, then double it, so that a run of one byte costs a
	// few copies rather than a loop per byte.
	for to < d.n {
		to += copy(d.out[to:d.n], d.out[from:to])
	}
}
