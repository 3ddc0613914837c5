// Package deflate is the DEFLATE (RFC 1951) of sealed sessions: Compress, a
// compressor, and Decompress, a decompressor capped at a limit, both for
// payloads held whole in memory and both allocation-free once pooled. The
// wire format is plain raw DEFLATE: any inflater opens what Compress writes,
// and Decompress opens what any deflater writes.
package deflate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
)

// A DEFLATE (RFC 1951) compressor made for session payloads: a few hundred
// bytes to the codec's MaxPlaintextBytes (250,000), held in memory.
// compress/flate is built for streams and costs a small payload more than its encryption many times over:
// its default level clears 640 KB of hash tables on every Reset, and even its
// fastest level builds Huffman codes through sort.Sort (about 11µs for 293
// bytes, 3 to 4 times this one's; BenchmarkDeflateStdlib against
// BenchmarkDeflate). This one makes one greedy LZ77 pass with a single hash
// probe (as compress/flate's fastest level does) and writes one block, with
// dynamic Huffman codes or with the fixed ones, whichever is shorter; once
// pooled it allocates nothing. Its output is plain raw DEFLATE: it opens
// with compress/flate, go-jose, zlib and every other inflater.
//
// For the few hundred bytes of a typical session the fixed costs dominate,
// not the bytes: building the codes and writing their tables. So the
// alphabet of 286 symbols is scanned once, to collect the symbols used (a
// few dozen; in ASCII text, as JSON mostly is, bytes 128 to 255 are not even
// looked at), and every later step works on those alone: codes are built
// with a counting sort and an in-place algorithm, the code lengths are
// run-length encoded without a branch per symbol, and the exact size of
// both kinds of block is known before either is written, so that the output
// is written in one go into room reserved once. The hot loops are written
// for what the Go compiler makes of them: small functions, so that their
// variables stay in registers; few branches on the data, which a CPU
// mispredicts; masked shift counts.
//
// The codes are complete (Kraft sum of one), except the distance code of a
// block with a single distance, which is one code of one bit, as zlib and
// compress/flate write and read it; the code-length code is always complete,
// as zlib requires.

const (
	zHashBits    = 14 // the hash table of the largest inputs: 16K entries
	zMinHashBits = 10 // and of the smallest
	zMinMatch    = 4
	zMaxMatch    = 258
	zWindow      = 32768
	zMaxBits     = 15 // longest code of the literal/length and distance codes
	zMaxCLBits   = 7  // longest code of the code-length code
	zNumLit      = 286
	zNumDist     = 30
	zNumCL       = 19
	zEOB         = 256
	zBuckets     = 64 // of the counting sort of symbols by frequency
)

// zCLOrder is the order in which the code-length code's lengths are written.
var zCLOrder = [zNumCL]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// zCLExtra is the number of extra bits after each code-length symbol.
var zCLExtra = [32]uint8{16: 2, 17: 3, 18: 7}

// Tables of the length and distance symbols, so that LZ77 finds them with a
// load instead of arithmetic, and the fixed Huffman codes (RFC 1951 section
// 3.2.6), packed as huffScratch.build packs codes.
var (
	zLenSym    [zMaxMatch - 2]uint8 // [l]: the length symbol of l+3 bytes, less 257
	zLenBase   [29]uint8            // the smallest l of each length symbol
	zLenExtra  [32]uint8            // extra bits of each length symbol
	zDistSym   [512]uint8           // [x]: the symbol of distance x+1 < 257; [256+x>>7] beyond
	zDistBase  [32]uint16           // the smallest x of each distance symbol
	zDistExtra [32]uint8            // extra bits of each distance symbol
	zFixedLit  [zNumLit]uint32
	zFixedDist [zNumDist]uint32

	// A run of z zero code lengths, 0 to 138, is zZeroRunLen[z]>>56 symbols
	// of the code-length code, each zZeroRun[z] (symbol | extra bits<<8):
	// one or two zeros (symbol 0), or one symbol 17 (3 to 10) or 18 (11 to
	// 138). The low bits of zZeroRunLen[z] count them by symbol, 16 bits
	// for each of 0, 17 and 18, so that a sum counts those of many runs.
	zZeroRun    [139]uint16
	zZeroRunLen [139]uint64
)

func init() {
	for l := zMaxMatch - 3; l >= 0; l-- { // down, so that the base is the smallest
		code, _, nextra := lengthCode(l)
		zLenSym[l] = uint8(code - 257)
		zLenBase[code-257], zLenExtra[code-257] = uint8(l), uint8(nextra)
	}
	for x := zWindow - 1; x >= 0; x-- {
		code, _, nextra := distCode(x)
		if x < 256 {
			zDistSym[x] = uint8(code)
		} else {
			// Past 256 bytes every distance symbol spans a multiple of 128.
			zDistSym[256+x>>7] = uint8(code)
		}
		zDistBase[code], zDistExtra[code] = uint16(x), uint8(nextra)
	}
	// The fixed literal/length code has 288 symbols, the last two never
	// used; its lengths are 8, 9, 7 and 8 bits from symbols 0, 144, 256 and
	// 280 on. The distance code is 5 bits for each symbol.
	fixedLen := func(sym int) uint32 {
		switch {
		case sym < 144:
			return 8
		case sym < 256:
			return 9
		case sym < 280:
			return 7
		}
		return 8
	}
	var next [zMaxBits + 2]uint32
	for sym := range 288 {
		next[fixedLen(sym)+1]++
	}
	for l := 1; l <= zMaxBits+1; l++ { // next[l]: the first code of length l
		next[l] = (next[l-1] + next[l]) << 1
	}
	for sym := range zNumLit {
		l := fixedLen(sym)
		zFixedLit[sym] = uint32(bits.Reverse16(uint16(next[l])))>>(16-l) | l<<16
		next[l]++
	}
	for sym := range zNumDist {
		zFixedDist[sym] = uint32(bits.Reverse16(uint16(sym)))>>11 | 5<<16
	}
	for z := range 139 {
		switch {
		case z < 3:
			zZeroRunLen[z] = uint64(z)<<56 | uint64(z)
		case z < 11:
			zZeroRun[z], zZeroRunLen[z] = uint16(17|(z-3)<<8), 1<<56|1<<16
		default:
			zZeroRun[z], zZeroRunLen[z] = uint16(18|(z-11)<<8), 1<<56|1<<32
		}
	}
}

type deflater struct {
	// The fields with pointers come first, so that the garbage collector
	// does not walk the tables after them.

	// matches are the matches of the input in order, one token each (see
	// token); the bytes between them are literals.
	matches []uint64

	// table holds, for each hash of 4 bytes, the position where they were
	// last seen plus base. Entries under base are from earlier inputs: moving
	// base past them replaces clearing the table on every call.
	table [1 << zHashBits]int32
	base  int32

	matched int // bytes in matches

	huff      huffScratch
	litFreq   [zNumLit]int32
	distFreq  [zNumDist]int32
	clFreq    [zNumCL]int32
	litCode   [zNumLit]uint32
	distCode  [zNumDist]uint32
	clCode    [32]uint32      // 19 used, 32 so that any symbol&0x1f indexes it
	litOrder  [zNumLit]uint16 // the symbols used, in order
	distOrder [zNumDist]uint16
	clOrder   [zNumCL]uint16
	cl        [zNumLit + zNumDist + 2]uint16 // the code-length sequence: symbol | extra<<8
	ncl       int
}

var deflaters = sync.Pool{New: func() any { return new(deflater) }}

// zMaxInput bounds the input. A symbol's frequency is packed with the symbol
// into 32 bits (frequency<<9 | symbol, see huffScratch.collect): a symbol
// counted 1<<23 times would overflow it, and that takes an input of 1<<23
// bytes at least. (A token's 28 bits of position allow more.)
// The codec's MaxPlaintextBytes, 250,000, is far below.
const zMaxInput = 1<<23 - 1

// ErrInternal reports a failure of the compressor's own checks (a bug, none
// known).
var ErrInternal = errors.New("deflate: internal error of the compressor")

// Compress appends the raw DEFLATE compression of src to dst. It returns dst
// unchanged and an error matching ErrInternal when src is longer than
// zMaxInput or when the block written is not of the size computed for it
// before writing: a bug of this file, none known, which the caller answers by
// not compressing, rather than with a panic on the request path.
func Compress(dst, src []byte) ([]byte, error) {
	if len(src) > zMaxInput {
		return dst, fmt.Errorf("%w: %d bytes of input, at most %d", ErrInternal, len(src), zMaxInput)
	}
	d := deflaters.Get().(*deflater)
	out, err := d.compress(dst, src)
	if err != nil {
		return dst, err // and d is dropped, whatever state it is in
	}
	if cap(d.matches) <= 16<<10 { // do not keep the rare huge one
		deflaters.Put(d)
	}
	return out, nil
}

func (d *deflater) compress(dst, src []byte) ([]byte, error) {
	d.count(src)
	return d.write(dst, src)
}

// count finds the matches of src and counts the symbols of its block.
func (d *deflater) count(src []byte) {
	d.litFreq, d.distFreq = [zNumLit]int32{}, [zNumDist]int32{}
	d.lz77(src)
	d.litFreq[zEOB] = 1
}

// write appends the block of src, whose matches and symbols lz77 found and
// counted, and checks that it has the size computed before writing. A block
// computed too short makes its writer run past the room reserved, which Go's
// bounds checks stop with a panic: write recovers it, so that the same bug
// is the same error whichever way the sizes disagree.
func (d *deflater) write(dst, src []byte) (out []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = dst, fmt.Errorf("%w: writing past the block's computed size (%v)", ErrInternal, v)
		}
	}()
	out, ok := d.writeBlock(dst, src)
	if !ok {
		return dst, fmt.Errorf("%w: block written is not of its computed size", ErrInternal)
	}
	return out, nil
}

// token returns the token of a match at pos of l+3 bytes at a distance of
// x+1, with its length symbol (less 257) and distance symbol. A token is
// position<<36 | l<<28 | length symbol<<23 | length extra bits<<18 |
// distance symbol<<13 | distance extra bits: all that the block writer
// needs, found once.
func token(pos, l, x int) (t uint64, lsym, dsym uint8) {
	// The index of the distance symbol: x under 256, 256+x>>7 over,
	// selected with a mask, not a branch (far is -1 over 255, else 0).
	far := (255 - x) >> 63
	lsym, dsym = zLenSym[l], zDistSym[(x&^far|(256+x>>7)&far)&511]
	t = uint64(pos)<<36 | uint64(l)<<28 | uint64(lsym)<<23 | uint64(l-int(zLenBase[lsym]))<<18 |
		uint64(dsym)<<13 | uint64(x-int(zDistBase[dsym&31]))
	return t, lsym, dsym
}

// zHash hashes 4 bytes into zHashBits bits, of which a smaller table takes
// the low ones (mask). The shift is constant: a variable one would take the
// CX register on amd64 and cost moves around it in the innermost loop.
func zHash(x uint32, mask uint32) uint32 {
	return (x * 0x1e35a7bd) >> (32 - zHashBits) & mask
}

// lz77 finds the matches of src and counts the symbols of the block.
//
// The hash table it uses grows with the input, from 1K entries to 16K: a
// session of a few hundred bytes then probes 4 KB, which stays in the L1
// cache, rather than 64 KB, which does not. Entries of earlier inputs are
// under base whatever the size, so the size may change from call to call.
func (d *deflater) lz77(src []byte) {
	if d.base > 1<<30 {
		d.table = [1 << zHashBits]int32{}
		d.base = 0
	}
	base := d.base + 1 // so that a zero entry is never a position
	d.base = base + int32(len(src))
	mask := uint32(1)<<min(max(bits.Len(uint(len(src)))+1, zMinHashBits), zHashBits) - 1

	matches, matched := d.matches[:0], 0
	lit := 0 // first byte not yet counted
	for {
		i, cand := d.search(src, lit, mask, base)
		if cand < 0 {
			countLiterals(&d.litFreq, src[i:])
			break
		}
		n := zMinMatch + matchLen(src, cand+zMinMatch, i+zMinMatch, min(i+zMaxMatch, len(src)))
		t, lsym, dsym := token(i, n-3, i-cand-1)
		matches = append(matches, t)
		d.litFreq[257+int(lsym)]++
		d.distFreq[dsym&31]++
		matched += n
		// The last position of the match, as compress/flate's fastest level
		// does: the positions inside a match are not hashed, which costs
		// nothing measurable in size on JSON.
		if j := i + n - 1; j+zMinMatch <= len(src) {
			d.table[zHash(binary.LittleEndian.Uint32(src[j:j+4]), mask)] = int32(j) + base
		}
		lit = i + n
	}
	d.matches, d.matched = matches, matched
}

// search returns the first position i from lit on where the 4 bytes of src
// at i were seen before, in the window, at cand; cand is -1 if there is none
// and i then the first byte it did not count. It counts the bytes before i
// in d.litFreq, as literals, and records the positions it hashes in the
// table.
//
// Past 32 literals it steps faster through bytes that do not compress, one
// more byte each 32, as compress/flate's fastest level and snappy do; the
// bytes it steps over are counted in one go at the end. The bytes before are
// counted as they are hashed, which saves a loop per match whose exit, at an
// unpredictable count, is a mispredicted branch. It is the innermost loop of
// the compressor, a function of its own so that its few variables stay in
// registers.
func (d *deflater) search(src []byte, lit int, mask uint32, base int32) (i, cand int) {
	table, freq := &d.table, &d.litFreq
	counted := lit // bytes before are counted
	for i = lit; i+zMinMatch <= len(src); {
		x := binary.LittleEndian.Uint32(src[i : i+4])
		h := zHash(x, mask)
		cand = int(table[h] - base)
		table[h] = int32(i) + base
		if cand >= 0 && i-cand <= zWindow && binary.LittleEndian.Uint32(src[cand:cand+4]) == x {
			countLiterals(freq, src[counted:i])
			return i, cand
		}
		if i-lit < 32 {
			freq[uint8(x)]++
			i++
			counted = i
		} else {
			i += 1 + (i-lit)>>5
		}
	}
	i = min(i, len(src))
	countLiterals(freq, src[counted:i])
	return i, -1
}

// countLiterals counts the bytes of s in freq.
func countLiterals(freq *[zNumLit]int32, s []byte) {
	for _, c := range s {
		freq[c]++
	}
}

// matchLen returns how many bytes src[a:] and src[b:end] have in common at
// their start; a < b.
func matchLen(src []byte, a, b, end int) int {
	n := 0
	for ; b+n+8 <= end; n += 8 {
		x := binary.LittleEndian.Uint64(src[a+n:a+n+8]) ^ binary.LittleEndian.Uint64(src[b+n:b+n+8])
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
	}
	for b+n < end && src[a+n] == src[b+n] {
		n++
	}
	return n
}

// lengthCode returns the literal/length symbol of a match of l+3 bytes, with
// its extra bits and their count. It defines the table zLenSym.
func lengthCode(l int) (code int, extra uint32, nextra uint) {
	switch {
	case l < 8:
		return 257 + l, 0, 0
	case l == zMaxMatch-3:
		return 285, 0, 0
	}
	nb := uint(bits.Len(uint(l))) - 1
	nextra = nb - 2
	return 257 + 4*int(nb-1) + (l>>nextra)&3, uint32(l) & (1<<nextra - 1), nextra
}

// distCode returns the distance symbol of a distance of x+1 bytes, with its
// extra bits and their count. It defines the table zDistSym.
func distCode(x int) (code int, extra uint32, nextra uint) {
	if x < 4 {
		return x, 0, 0
	}
	nb := uint(bits.Len(uint(x))) - 1
	nextra = nb - 1
	return 2*int(nb) + (x>>nextra)&1, uint32(x) & (1<<nextra - 1), nextra
}

// fixedSize returns the size in bits of the fixed block of an input of n
// bytes with the matches and symbols counted, known without building
// anything: literals under 144 take 8 bits, the others 9, the length
// symbols 7 or 8 and the distances 5. It also returns the extra bits of the
// matches, which a dynamic block has too, and whether there is no literal
// over 127, as in text of ASCII characters.
func (d *deflater) fixedSize(n int) (fixedBits, extraBits int, ascii bool) {
	high := int32(0)
	for _, f := range d.litFreq[128:256] {
		high |= f
	}
	fixedBits = 3 + 8*(n-d.matched) + 5*len(d.matches) + 7 // header, literals, distances, end of block
	for sym, f := range d.litFreq[257:] {
		extraBits += int(f) * int(zLenExtra[sym])
		fixedBits += int(f) * int(zFixedLit[257+sym]>>16)
	}
	for sym, f := range d.distFreq {
		extraBits += int(f) * int(zDistExtra[sym])
	}
	if high != 0 {
		for _, f := range d.litFreq[144:256] {
			fixedBits += int(f)
		}
	}
	return fixedBits + extraBits, extraBits, high == 0
}

// writeBlock appends one final block of src with its matches: with dynamic
// Huffman codes (BTYPE 10), or with the fixed codes (BTYPE 01) when that is
// no longer. The fixed block wins on short inputs that do not compress much,
// where the tables of the dynamic codes cost more than they save. It reports
// whether the block written has the size computed.
func (d *deflater) writeBlock(dst, src []byte) ([]byte, bool) {
	h := &d.huff
	fixedBits, extraBits, ascii := d.fixedSize(len(src))

	// The literal/length code. A text of ASCII characters uses no literal
	// from 128 to 255: they need not be looked at.
	n := h.collect(0, d.litFreq[:128], 0)
	if !ascii {
		n = h.collect(n, d.litFreq[128:256], 128)
	}
	nLit := h.collect(n, d.litFreq[256:], 256)
	litBits, litCount := h.build(nLit, d.litCode[:], d.litOrder[:], zMaxBits)
	dynBits := 3 + extraBits + litBits
	if fixedBits <= dynBits { // the tables of the dynamic codes come on top
		return d.writeFixed(dst, src, fixedBits)
	}
	if len(d.matches) == 0 {
		d.distFreq[0] = 1 // a block without matches still has a distance code
	}
	nDist := h.collect(0, d.distFreq[:], 0)
	distBits, distCount := h.build(nDist, d.distCode[:], d.distOrder[:], zMaxBits)
	if len(d.matches) > 0 {
		dynBits += distBits
	}
	numLit, numDist := int(d.litOrder[nLit-1])+1, int(d.distOrder[nDist-1])+1

	// The code lengths, run-length encoded across both codes, and their code.
	// zlib refuses an incomplete code-length code, and build makes a
	// complete one of two symbols or more. There are always two: the numLit
	// (257 to 286) lengths of the literal/length code either include a zero
	// run, a symbol 0, 17 or 18 besides the length of end-of-block, or are
	// all used; then, as numLit is no power of two, the complete code has
	// two lengths at least.
	d.codeLengths(numLit, nLit, nDist, &litCount, &distCount)
	d.clCode = [32]uint32{} // the lengths of all are written, used or not
	clBits, _ := h.build(h.collect(0, d.clFreq[:], 0), d.clCode[:zNumCL], d.clOrder[:], zMaxCLBits)
	dynBits += clBits + 2*int(d.clFreq[16]) + 3*int(d.clFreq[17]) + 7*int(d.clFreq[18])
	numCL := zNumCL
	for numCL > 4 && d.clCode[zCLOrder[numCL-1]] == 0 {
		numCL--
	}
	dynBits += 14 + 3*numCL
	if fixedBits <= dynBits {
		return d.writeFixed(dst, src, fixedBits)
	}

	// The header, then the data. The lengths of the code-length code take
	// at most 19*3 bits, its symbols at most 7+7: with the at most 7 bits
	// pending after a flush, all the former fit in acc, and four of the
	// latter.
	buf, out := reserve(dst, dynBits)
	pos, acc, nb := flush(buf, 0, uint64(1|2<<1|(numLit-257)<<3|(numDist-1)<<8|(numCL-4)<<13), 17)
	lens := uint64(0)
	for i, sym := range zCLOrder[:numCL] {
		lens |= uint64(d.clCode[sym]>>16) << (3 * i & 63)
	}
	acc |= lens << (nb & 63)
	nb += uint(3 * numCL)
	pos, acc, nb = flush(buf, pos, acc, nb)
	cl, clCode := d.cl[:d.ncl], &d.clCode
	for ; len(cl) >= 4; cl = cl[4:] {
		acc, nb = putCL(acc, nb, cl[0], clCode)
		acc, nb = putCL(acc, nb, cl[1], clCode)
		acc, nb = putCL(acc, nb, cl[2], clCode)
		acc, nb = putCL(acc, nb, cl[3], clCode)
		pos, acc, nb = flush(buf, pos, acc, nb)
	}
	for _, c := range cl {
		acc, nb = putCL(acc, nb, c, clCode)
	}
	pos, acc, nb = flush(buf, pos, acc, nb)
	return d.data(out, buf, src, pos, acc, nb, &d.litCode, &d.distCode)
}

// putCL adds the code of the code-length symbol c (symbol | extra bits<<8)
// and its extra bits to the nb bits of acc.
func putCL(acc uint64, nb uint, c uint16, clCode *[32]uint32) (uint64, uint) {
	sym := c & 0x1f
	code := clCode[sym]
	acc |= (uint64(code&0xffff) | uint64(c>>8)<<(code>>16&63)) << (nb & 63)
	return acc, nb + uint(code>>16) + uint(zCLExtra[sym])
}

// writeFixed appends a final block of the fixed codes, size bits long, and
// reports whether it is.
func (d *deflater) writeFixed(dst, src []byte, size int) ([]byte, bool) {
	buf, out := reserve(dst, size)
	return d.data(out, buf, src, 0, 1|1<<1, 3, &zFixedLit, &zFixedDist) // BFINAL, BTYPE 01
}

// reserve returns dst grown by the bytes of a block of size bits (out) and
// those bytes and 8 more for flush to store into (buf), capped there, so that
// a store past them panics (see deflater.write).
func reserve(dst []byte, size int) (buf, out []byte) {
	nb := (size + 7) / 8
	out = slices.Grow(dst, nb+8)
	return out[len(dst) : len(dst)+nb+8 : len(dst)+nb+8], out[:len(dst)+nb]
}

// data writes the literals and matches of src and the end of block with the
// codes lit and dist into buf, from its byte pos and the nb bits of acc on,
// and returns out, which ends where buf does without its 8 spare bytes. It
// reports whether the bytes written end there too.
//
// After a flush at most 7 bits are pending, so three literals of at most 15
// bits fit before the next, or the one or two left of a run, or a length
// and a distance with their extra bits (7+15+5+15+13): one flush, with its
// store and shifts, for three literals or a match. Shift counts are masked
// with 63, which they never exceed: Go defines shifts past the width, and
// without the mask the compiler adds code for that case to every shift.
func (d *deflater) data(out, buf, src []byte, pos int, acc uint64, nb uint, lit *[zNumLit]uint32, dist *[zNumDist]uint32) ([]byte, bool) {
	matches, start := d.matches, 0
	for k := 0; ; k++ {
		end := len(src)
		if k < len(matches) {
			end = int(matches[k] >> 36)
		}
		s, j := src[start:end], 0
		for ; j+2 < len(s); j += 3 {
			c0, c1, c2 := lit[s[j]], lit[s[j+1]], lit[s[j+2]]
			acc |= uint64(c0&0xffff) << (nb & 63)
			nb += uint(c0 >> 16)
			acc |= uint64(c1&0xffff) << (nb & 63)
			nb += uint(c1 >> 16)
			acc |= uint64(c2&0xffff) << (nb & 63)
			nb += uint(c2 >> 16)
			pos, acc, nb = flush(buf, pos, acc, nb)
		}
		for ; j < len(s); j++ {
			code := lit[s[j]]
			acc |= uint64(code&0xffff) << (nb & 63)
			nb += uint(code >> 16)
		}
		pos, acc, nb = flush(buf, pos, acc, nb)
		if k == len(matches) {
			break
		}
		m := matches[k]
		lsym, dsym := m>>23&31, m>>13&31
		code := lit[257+lsym]
		acc |= (uint64(code&0xffff) | (m>>18&31)<<(code>>16&63)) << (nb & 63)
		nb += uint(code>>16) + uint(zLenExtra[lsym])
		code = dist[dsym]
		acc |= (uint64(code&0xffff) | (m&0x1fff)<<(code>>16&63)) << (nb & 63)
		nb += uint(code>>16) + uint(zDistExtra[dsym])
		pos, acc, nb = flush(buf, pos, acc, nb)
		start = end + int(m>>28&0xff) + 3
	}
	code := lit[zEOB]
	acc |= uint64(code&0xffff) << (nb & 63)
	nb += uint(code >> 16)
	pos, _, nb = flush(buf, pos, acc, nb)
	return out, pos+int(nb+7)/8 == len(buf)-8
}

// flush stores the bits of acc, nb of them, at buf[pos:] and drops the
// complete bytes from acc: at most 7 bits remain. It stores all 8 bytes of
// acc, those after the complete ones zero, without a branch on how many
// bytes are complete, which is unpredictable. buf must have 8 bytes from
// pos, and no more than 64 bits may be pending before the next flush.
func flush(buf []byte, pos int, acc uint64, nb uint) (int, uint64, uint) {
	binary.LittleEndian.PutUint64(buf[pos:pos+8], acc)
	done := nb &^ 7
	return pos + int(done>>3), acc >> (done & 63), nb & 7
}

// codeLengths run-length encodes the lengths of the literal/length code
// (numLit of them) and then those of the distance code into d.cl, and counts
// the symbols of the code-length code. It visits only the symbols used (nLit
// and nDist of them): the lengths in between are zero, and the runs of zeros
// are what it encodes, with the tables zZeroRun and zZeroRunLen. Each length
// is a symbol of its own, so that the counts of lengths of both codes
// (litCount, distCount) count the symbols 1 to 15; the runs count the others
// as they go, in a register rather than with an increment in memory per
// symbol, each of which would wait for the one before. It takes no
// branch on the data but for runs of more than 138 zeros, rare: the lengths
// of a text's code vary from one symbol to the next, so such branches would
// be mispredicted most of the time. For the same reason it does not encode
// runs of equal lengths other than zero (symbol 16): they are rare and short
// in the codes of a text, and when they are not, as in the code of random
// bytes, a byte or two at most is lost.
func (d *deflater) codeLengths(numLit, nLit, nDist int, litCount, distCount *[zMaxBits + 1]int) {
	cl := &d.cl
	k, next := 0, 0   // tokens written; position in the sequence after the last length
	runs := uint64(0) // the sum of zZeroRunLen of the runs
	for j := range nLit + nDist {
		var p int
		var l uint32
		if j < nLit {
			sym := d.litOrder[j]
			p, l = int(sym), d.litCode[sym]>>16
		} else {
			sym := d.distOrder[j-nLit]
			p, l = numLit+int(sym), d.distCode[sym]>>16
		}
		z := p - next
		for ; z > 138; z -= min(z, 138) {
			cl[k] = uint16(18 | (min(z, 138)-11)<<8)
			k++
			runs += 1 << 32
		}
		// Both slots are written; the count says how many are kept.
		cl[k], cl[k+1] = zZeroRun[z], zZeroRun[z]
		runs += zZeroRunLen[z]
		k += int(zZeroRunLen[z] >> 56)
		cl[k] = uint16(l)
		k++
		next = p + 1
	}
	var freq [zNumCL]int32
	for l := 1; l <= zMaxBits; l++ {
		freq[l] = int32(litCount[l] + distCount[l])
	}
	freq[0], freq[17], freq[18] = int32(runs&0xffff), int32(runs>>16&0xffff), int32(runs>>32&0xffff)
	d.ncl, d.clFreq = k, freq
}

// huffScratch is the working memory of build.
type huffScratch struct {
	syms   [512]uint32        // frequency<<9 | symbol of the used symbols (512: see collect)
	big    [512]uint32        // frequency<<9 | index of those of the last bucket (see build)
	tmp    [zNumLit]uint32    // scratch of radixSort
	w      [zNumLit + 1]int32 // the weights in rising order, then tree nodes
	first  [zNumLit + 1]int32 // by depth, the first tree node
	lens   [zNumLit]uint8     // by rank, the code length
	bigLen [512]uint8         // the code length of each symbol of the last bucket
}

// collect writes frequency<<9 | symbol for the symbols lo, lo+1, … of
// frequencies freq that are used (frequency > 0) to h.syms, from index n on,
// and returns the new count. It takes no branch per symbol: which are used
// is unpredictable. The index is masked to the array, which is larger than
// any count, so that the compiler needs no bounds check. It is not inlined:
// in the large writeBlock, the compiler would keep n on the stack.
//
//go:noinline
func (h *huffScratch) collect(n int, freq []int32, lo int) int {
	const mask = len(h.syms) - 1
	i := 0
	for ; i+2 <= len(freq); i += 2 {
		f0, f1 := freq[i], freq[i+1]
		h.syms[n&mask] = uint32(f0)<<9 | uint32(lo+i)
		n += int(uint32(f0|-f0) >> 31) // f0 > 0
		h.syms[n&mask] = uint32(f1)<<9 | uint32(lo+i+1)
		n += int(uint32(f1|-f1) >> 31)
	}
	if i < len(freq) {
		f := freq[i]
		h.syms[n&mask] = uint32(f)<<9 | uint32(lo+i)
		n += int(uint32(f|-f) >> 31)
	}
	return n
}

// build computes a Huffman code for the n symbols collected, at most maxBits
// long, and returns its cost, the sum of frequency times length, and the
// number of codes of each length. It sets code[sym] to bits.Reverse(code) |
// length<<16 (the code reversed, for writing least significant bit first)
// for every symbol collected and leaves the others alone; the codes are
// canonical (RFC 1951 section 3.2.2). It writes the symbols collected in
// order to order. Two or more symbols get a complete code; a single one gets
// one bit.
//
// The code depends on the symbols sorted by frequency and then symbol: the
// least frequent get the longest codes. They are not sorted, though, only
// ranked. A counting sort of the frequencies under lastB (zBuckets-1, or n
// if less), which are most of them in a short input, gives each frequency
// the rank of its first symbol; the symbols of a frequency follow in symbol
// order, the order in which they are collected, so that one pass in that
// order finds the rank of each symbol, hence its length, and also gives it
// its canonical code, which is in symbol order too. The weights in order,
// which the lengths are computed from, follow from the counts alone. Only
// the frequencies from lastB up, which share the last bucket, are sorted.
// Compared with sorting all the symbols, this saves a pass that scatters
// them, each step of which waits on the one before through memory when two
// symbols have the same frequency, as most have in a short input.
func (h *huffScratch) build(n int, code []uint32, order []uint16, maxBits int) (cost int, count [zMaxBits + 1]int) {
	if n == 0 {
		return 0, count
	}
	const mask = len(h.big) - 1
	syms := h.syms[:n]
	// start[b], the count of frequency b, then the rank of its first
	// symbol. A few symbols need few buckets, and those are cleared and
	// summed for nothing.
	var start [zBuckets]int32
	lastB := uint32(min(n, zBuckets-1))
	nBig := 0
	for i, s := range syms {
		order[i] = uint16(s & 0x1ff)
		f := s >> 9
		start[min(f, lastB)]++
		h.big[nBig&mask] = f<<9 | uint32(nBig)
		if f >= lastB {
			nBig++
		}
	}
	sum := int32(0)
	for b, c := range start[:lastB+1] {
		start[b] = sum
		sum += c
	}
	last := int(start[lastB])
	// The weights in rising order: each frequency from the rank of its
	// first symbol on, by a running maximum.
	w := h.w[:n+1]
	clear(w[:last])
	for b := uint32(1); b < lastB; b++ {
		w[start[b]] = int32(b)
	}
	for r, m := 0, int32(0); r < last; r++ {
		m = max(m, w[r])
		w[r] = m
	}
	big := h.big[:nBig]
	if len(big) <= 32 {
		insertionSort(big)
	} else {
		radixSort(big, h.tmp[:len(big)])
	}
	for p, v := range big {
		w[last+p] = int32(v >> 9)
	}
	w[n] = math.MaxInt32

	if n == 1 {
		count[1] = 1
	} else if lengthCounts(w, h.first[:n+1], &count, maxBits) > maxBits {
		// The counts are those of the optimal code, with the lengths over
		// maxBits counted as maxBits. Make the code complete again, as
		// miniz does: each step takes a code off the longest length and
		// splits a shorter one in two.
		total := 0
		for l := 1; l <= maxBits; l++ {
			total += count[l] << (maxBits - l)
		}
		for ; total > 1<<maxBits; total-- {
			count[maxBits]--
			for l := maxBits - 1; l > 0; l-- {
				if count[l] != 0 {
					count[l]--
					count[l+1] += 2
					break
				}
			}
		}
	}
	// The lengths by rank, the longest first; those of the last bucket by
	// their index in it.
	lens, r := h.lens[:n], 0
	for l := maxBits; l > 0; l-- {
		for k := count[l]; k > 0; k-- {
			lens[r] = uint8(l)
			r++
		}
	}
	for p, v := range big {
		h.bigLen[int(v)&mask] = lens[last+p]
	}
	var next [zMaxBits + 1]uint32
	c := uint32(0)
	for l := 1; l <= maxBits; l++ {
		next[l] = c
		c = (c + uint32(count[l])) << 1
	}
	for _, s := range syms {
		f := s >> 9
		b := min(f, lastB)
		r := start[b]
		start[b]++
		l := uint32(lens[r])
		// Masked: r-last is negative outside the last bucket.
		if bl := h.bigLen[(int(r)-last)&mask]; b == lastB {
			l = uint32(bl)
		}
		l &= zMaxBits
		code[s&0x1ff] = uint32(bits.Reverse16(uint16(next[l])))>>(16-l) | l<<16
		next[l]++
		cost += int(f) * int(l)
	}
	return cost, count
}

func insertionSort(s []uint32) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// radixSort sorts s (frequency<<9 | index in rising order) by frequency, a
// byte a pass, stably, with the help of tmp, which must be as long.
func radixSort(s, tmp []uint32) {
	maxFreq := uint32(0)
	for _, v := range s {
		maxFreq = max(maxFreq, v>>9)
	}
	a, b := s, tmp
	for shift := uint(9); maxFreq>>(shift-9) != 0; shift += 8 {
		var start [256]int
		for _, v := range a {
			start[v>>shift&0xff]++
		}
		sum := 0
		for i, c := range start {
			start[i] = sum
			sum += c
		}
		for _, v := range a {
			k := v >> shift & 0xff
			b[start[k]] = v
			start[k]++
		}
		a, b = b, a
	}
	if &a[0] != &s[0] {
		copy(s, a)
	}
}

// lengthCounts adds to count[l] the number of codes of length l of an
// optimal prefix code for the weights a[:len(a)-1], sorted in rising order,
// counting the lengths over maxBits as maxBits. It is the algorithm of
// Moffat and Katajainen, "In-Place Calculation of Minimum-Redundancy Codes"
// (1995), which overwrites a, with its last pass reduced to counting: the
// lengths of the leaves in order of weight follow from the counts. The last
// element of a must be math.MaxInt32, a sentinel; there must be at least
// two weights. first is scratch as long as a. It returns the longest length
// of the optimal code.
func lengthCounts(a, first []int32, count *[zMaxBits + 1]int, maxBits int) (maxLen int) {
	n := len(a) - 1
	// First pass, left to right: internal node weights and parent pointers.
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		if a[root] < a[leaf] { // a[n], past the leaves, weighs more than any
			a[next] = a[root]
			a[root] = int32(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if root < next && a[root] < a[leaf] {
			a[next] += a[root]
			a[root] = int32(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	// Second pass, right to left: internal node depths, which do not
	// decrease from the root at n-2 to the deepest node at 0. first[d]
	// becomes the first internal node of depth d.
	a[n-2], first[0] = 0, int32(n-2)
	for next := n - 3; next >= 0; next-- {
		d := a[a[next]] + 1
		a[next] = d
		first[d] = int32(next)
	}
	// Third pass, down the tree: of the two children of each internal node
	// one level up, those that are not internal nodes are leaves. Where each
	// depth starts is known, so no loop depends on a comparison, which would
	// be hard to predict.
	up, end := 1, first[0] // the root; where the nodes one level up start
	for d := 1; d <= int(a[0])+1; d++ {
		internal := int32(0)
		if d <= int(a[0]) {
			internal, end = end-first[d], first[d]
		}
		count[min(d, maxBits)] += 2*up - int(internal)
		up = int(internal)
	}
	return int(a[0]) + 1
}
