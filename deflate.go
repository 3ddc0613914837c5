package cookiesession

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
)

// A DEFLATE (RFC 1951) compressor made for session payloads: a few hundred
// bytes to MaxPlaintextBytes, held in memory. compress/flate is built for
// streams and costs a small payload more than its encryption many times over:
// its default level clears 640 KB of hash tables on every Reset, and even its
// fastest level builds Huffman codes through sort.Sort (about 8µs for 200
// bytes). This one makes one greedy LZ77 pass with a single hash probe (as
// compress/flate's fastest level does) and writes one dynamic-Huffman block;
// once pooled it allocates nothing. Its output is plain raw DEFLATE: it opens
// with compress/flate, go-jose, zlib and every other inflater.
//
// The codes are complete (Kraft sum of one), except the distance code of a
// block with a single distance, which is one code of one bit, as zlib and
// compress/flate write and read it; the code-length code is always complete,
// as zlib requires.

const (
	zHashBits  = 14
	zMinMatch  = 4
	zMaxMatch  = 258
	zWindow    = 32768
	zMaxBits   = 15 // longest code of the literal/length and distance codes
	zMaxCLBits = 7  // longest code of the code-length code
	zNumLit    = 286
	zNumDist   = 30
	zNumCL     = 19
	zEOB       = 256
)

// zCLOrder is the order in which the code-length code's lengths are written.
var zCLOrder = [zNumCL]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

type deflater struct {
	// The fields with pointers come first, so that the garbage collector
	// does not walk the tables after them.

	// matches are position<<32 | (length-3)<<15 | (distance-1), in order;
	// the bytes between them are literals.
	matches []uint64
	cl      []uint16 // the code-length sequence: symbol | extra<<8
	huff    huffScratch

	// table holds, for each hash of 4 bytes, the position where they were
	// last seen plus base. Entries under base are from earlier inputs: moving
	// base past them replaces clearing the table on every call.
	table [1 << zHashBits]int32
	base  int32

	litFreq  [zNumLit]int32
	distFreq [zNumDist]int32
	clFreq   [zNumCL]int32
	litLen   [zNumLit]uint8
	distLen  [zNumDist]uint8
	clLen    [zNumCL]uint8
	litCode  [zNumLit]uint16 // bit-reversed, ready to write LSB first
	distCode [zNumDist]uint16
	clCode   [zNumCL]uint16
}

var deflaters = sync.Pool{New: func() any { return new(deflater) }}

// deflate appends the raw DEFLATE compression of src to dst.
func deflate(dst, src []byte) []byte {
	d := deflaters.Get().(*deflater)
	dst = d.compress(dst, src)
	if cap(d.matches) <= 16<<10 { // do not keep the rare huge one
		deflaters.Put(d)
	}
	return dst
}

func (d *deflater) compress(dst, src []byte) []byte {
	d.litFreq, d.distFreq, d.clFreq = [zNumLit]int32{}, [zNumDist]int32{}, [zNumCL]int32{}
	d.matches = d.matches[:0]
	d.lz77(src)
	d.litFreq[zEOB] = 1
	return d.writeBlock(dst, src)
}

func zHash(x uint32) uint32 { return (x * 0x1e35a7bd) >> (32 - zHashBits) }

// lz77 finds the matches of src and counts the symbols of the block.
func (d *deflater) lz77(src []byte) {
	if d.base > 1<<30 {
		d.table = [1 << zHashBits]int32{}
		d.base = 0
	}
	base := d.base + 1 // so that a zero entry is never a position
	d.base = base + int32(len(src))

	lit := 0 // first byte not yet counted
	for i := 0; i+zMinMatch <= len(src); {
		x := binary.LittleEndian.Uint32(src[i:])
		h := zHash(x)
		cand := int(d.table[h] - base)
		d.table[h] = int32(i) + base
		if cand < 0 || i-cand > zWindow || binary.LittleEndian.Uint32(src[cand:]) != x {
			// Step faster through bytes that do not compress.
			i += 1 + (i-lit)>>5
			continue
		}
		n := zMinMatch + matchLen(src[cand+zMinMatch:], src[i+zMinMatch:min(i+zMaxMatch, len(src))])
		for _, c := range src[lit:i] {
			d.litFreq[c]++
		}
		d.matches = append(d.matches, uint64(i)<<32|uint64(n-3)<<15|uint64(i-cand-1))
		code, _, _ := lengthCode(n - 3)
		d.litFreq[code]++
		dcode, _, _ := distCode(i - cand - 1)
		d.distFreq[dcode]++
		for j := max(i+1, i+n-2); j < i+n && j+zMinMatch <= len(src); j++ {
			d.table[zHash(binary.LittleEndian.Uint32(src[j:]))] = int32(j) + base
		}
		i += n
		lit = i
	}
	for _, c := range src[lit:] {
		d.litFreq[c]++
	}
}

// matchLen returns how many bytes a and b have in common at their start;
// len(a) >= len(b).
func matchLen(a, b []byte) int {
	n := 0
	for ; len(b)-n >= 8; n += 8 {
		if x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:]); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// lengthCode returns the literal/length symbol of a match of l+3 bytes, with
// its extra bits and their count.
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
// extra bits and their count.
func distCode(x int) (code int, extra uint32, nextra uint) {
	if x < 4 {
		return x, 0, 0
	}
	nb := uint(bits.Len(uint(x))) - 1
	nextra = nb - 1
	return 2*int(nb) + (x>>nextra)&1, uint32(x) & (1<<nextra - 1), nextra
}

// writeBlock appends one final dynamic-Huffman block of src with its matches.
func (d *deflater) writeBlock(dst, src []byte) []byte {
	if slices.Max(d.distFreq[:]) == 0 {
		d.distFreq[0] = 1 // a block without matches still has a distance code
	}
	d.huff.code(d.litFreq[:], d.litLen[:], d.litCode[:], zMaxBits)
	d.huff.code(d.distFreq[:], d.distLen[:], d.distCode[:], zMaxBits)
	numLit, numDist := lastNonZero(d.litLen[:])+1, lastNonZero(d.distLen[:])+1

	// The code lengths, run-length encoded across both codes.
	d.cl = d.cl[:0]
	lens := append(append(d.huff.seq[:0], d.litLen[:numLit]...), d.distLen[:numDist]...)
	d.huff.seq = lens
	for i := 0; i < len(lens); {
		v, n := lens[i], 1
		for i+n < len(lens) && lens[i+n] == v {
			n++
		}
		i += n
		if v == 0 {
			for ; n >= 11; n -= min(n, 138) {
				d.clSym(18, min(n, 138)-11)
			}
			if n >= 3 {
				d.clSym(17, n-3)
				n = 0
			}
		} else {
			d.clSym(int(v), 0)
			for n--; n >= 3; n -= min(n, 6) {
				d.clSym(16, min(n, 6)-3)
			}
		}
		for ; n > 0; n-- {
			d.clSym(int(v), 0)
		}
	}
	if used := countNonZero(d.clFreq[:]); used < 2 {
		// zlib refuses an incomplete code-length code: give it a second
		// symbol, never used.
		d.clFreq[slices.Index(d.clFreq[:], 0)] = 1
	}
	d.huff.code(d.clFreq[:], d.clLen[:], d.clCode[:], zMaxCLBits)
	numCL := zNumCL
	for numCL > 4 && d.clLen[zCLOrder[numCL-1]] == 0 {
		numCL--
	}

	// The bits, with the writer's state in locals.
	out, acc, n := dst, uint64(0), uint(0)
	out, acc, n = putBits(out, acc, n, 1, 1) // BFINAL
	out, acc, n = putBits(out, acc, n, 2, 2) // BTYPE 10: dynamic Huffman codes
	out, acc, n = putBits(out, acc, n, uint64(numLit-257)|uint64(numDist-1)<<5|uint64(numCL-4)<<10, 14)
	for _, sym := range zCLOrder[:numCL] {
		out, acc, n = putBits(out, acc, n, uint64(d.clLen[sym]), 3)
	}
	for _, c := range d.cl {
		sym, extra := c&0xff, uint64(c>>8)
		nextra := uint(0)
		switch sym {
		case 16:
			nextra = 2
		case 17:
			nextra = 3
		case 18:
			nextra = 7
		}
		out, acc, n = putBits(out, acc, n, uint64(d.clCode[sym])|extra<<d.clLen[sym], uint(d.clLen[sym])+nextra)
	}
	pos := 0
	for _, m := range d.matches {
		start := int(m >> 32)
		for _, c := range src[pos:start] {
			out, acc, n = putBits(out, acc, n, uint64(d.litCode[c]), uint(d.litLen[c]))
		}
		l := int(m>>15) & 0xff
		code, extra, nextra := lengthCode(l)
		out, acc, n = putBits(out, acc, n, uint64(d.litCode[code])|uint64(extra)<<d.litLen[code], uint(d.litLen[code])+nextra)
		dcode, dextra, dnextra := distCode(int(m & (zWindow - 1)))
		out, acc, n = putBits(out, acc, n, uint64(d.distCode[dcode])|uint64(dextra)<<d.distLen[dcode], uint(d.distLen[dcode])+dnextra)
		pos = start + l + 3
	}
	for _, c := range src[pos:] {
		out, acc, n = putBits(out, acc, n, uint64(d.litCode[c]), uint(d.litLen[c]))
	}
	out, acc, n = putBits(out, acc, n, uint64(d.litCode[zEOB]), uint(d.litLen[zEOB]))
	for ; n > 0; n -= min(n, 8) {
		out = append(out, byte(acc))
		acc >>= 8
	}
	return out
}

// putBits appends the nb low bits of v, at most 32, to the bits acc holds (n
// of them, fewer than 32), least significant first as DEFLATE packs them.
func putBits(out []byte, acc uint64, n uint, v uint64, nb uint) ([]byte, uint64, uint) {
	acc |= v << n
	n += nb
	if n >= 32 {
		out = binary.LittleEndian.AppendUint32(out, uint32(acc))
		acc >>= 32
		n -= 32
	}
	return out, acc, n
}

func (d *deflater) clSym(sym, extra int) {
	d.cl = append(d.cl, uint16(sym|extra<<8))
	d.clFreq[sym]++
}

func lastNonZero[T uint8 | int32](s []T) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 0 {
			return i
		}
	}
	return -1
}

func countNonZero(s []int32) (n int) {
	for _, v := range s {
		if v != 0 {
			n++
		}
	}
	return n
}

// huffScratch is the working memory of lengths.
type huffScratch struct {
	a     []int32
	seq   []uint8
	syms  [zNumLit]uint32 // frequency<<9 | symbol of the used symbols, then sorted
	tmp   [zNumLit]uint32
	order [zNumLit]uint16 // the used symbols in symbol order
}

// code sets lens[i] to the length of the Huffman code of symbol i for the
// frequencies freq, at most maxBits long, 0 for a symbol of frequency 0, and
// codes[i] to its canonical code (RFC 1951 section 3.2.2), bit-reversed for
// writing least significant bit first. Two or more symbols get a complete
// code; a single one gets one bit.
func (h *huffScratch) code(freq []int32, lens []uint8, codes []uint16, maxBits int) {
	clear(lens)
	// The used symbols, collected without a branch per symbol: which are
	// used is unpredictable, and most of 286 are not.
	n := 0
	for sym, f := range freq {
		h.syms[n] = uint32(f)<<9 | uint32(sym)
		h.order[n] = uint16(sym)
		n += int(uint32(f|-f) >> 31) // f > 0
	}
	syms := h.syms[:n]
	var count [zMaxBits + 1]int
	switch n {
	case 0:
		return
	case 1:
		count[1] = 1
	default:
		syms = sortByFreq(syms, h.tmp[:n])
		a := h.a[:0]
		for _, s := range syms {
			a = append(a, int32(s>>9))
		}
		h.a = a
		minimumRedundancy(a)
		// a[i] is now the optimal length of the i-th symbol in order of
		// rising frequency (non-increasing lengths). Cap them at maxBits and
		// make the code complete again, as miniz does: each step takes a code
		// off the longest length and splits a shorter one in two.
		for _, l := range a {
			count[min(int(l), maxBits)]++
		}
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
	// The least frequent symbols get the longest codes.
	var next [zMaxBits + 1]uint16
	code, i := uint16(0), 0
	for l := 1; l <= maxBits; l++ {
		next[l] = code
		code = (code + uint16(count[l])) << 1
	}
	for l := maxBits; l > 0; l-- {
		for c := count[l]; c > 0; c-- {
			lens[syms[i]&0x1ff] = uint8(l)
			i++
		}
	}
	for _, sym := range h.order[:n] {
		l := lens[sym]
		codes[sym] = bits.Reverse16(next[l]) >> (16 - l)
		next[l]++
	}
}

// sortByFreq sorts syms, frequency<<9 | symbol in symbol order, by frequency
// and then symbol: a few by insertion, more by a stable radix sort on the
// frequency, a byte a pass (one pass for a small input), faster than a
// comparison sort. It returns syms or tmp, which must be as long.
func sortByFreq(syms, tmp []uint32) []uint32 {
	if len(syms) <= 32 {
		for i := 1; i < len(syms); i++ { // insertion sort of a few
			for j := i; j > 0 && syms[j] < syms[j-1]; j-- {
				syms[j], syms[j-1] = syms[j-1], syms[j]
			}
		}
		return syms
	}
	maxFreq := uint32(0)
	for _, s := range syms {
		maxFreq = max(maxFreq, s>>9)
	}
	for shift := uint(9); maxFreq>>(shift-9) != 0; shift += 8 {
		var start [256]int
		for _, s := range syms {
			start[s>>shift&0xff]++
		}
		sum := 0
		for i, c := range start {
			start[i] = sum
			sum += c
		}
		for _, s := range syms {
			b := s >> shift & 0xff
			tmp[start[b]] = s
			start[b]++
		}
		syms, tmp = tmp, syms
	}
	return syms
}

// minimumRedundancy replaces the weights a, sorted in rising order, with the
// lengths of an optimal prefix code for them, in place: the algorithm of
// Moffat and Katajainen, "In-Place Calculation of Minimum-Redundancy Codes"
// (1995). len(a) must be at least 2.
func minimumRedundancy(a []int32) {
	n := len(a)
	// First pass, left to right: internal node weights and parent pointers.
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = int32(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = int32(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	// Second pass, right to left: internal node depths.
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	// Third pass, right to left: leaf depths.
	avail, used, depth := 1, 0, int32(0)
	root, next := n-2, n-1
	for avail > 0 {
		for root >= 0 && a[root] == depth {
			used++
			root--
		}
		for avail > used {
			a[next] = depth
			next--
			avail--
		}
		avail, depth, used = 2*used, depth+1, 0
	}
}
