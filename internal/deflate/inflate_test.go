package deflate

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// stdInflate is the reference: compress/flate's reader, reading at most
// limit+1 bytes. ok is false when it refuses the stream or the stream
// inflates past limit.
func stdInflate(src []byte, limit int) (out []byte, ok bool) {
	r := flate.NewReader(bytes.NewReader(src))
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil || len(out) > limit {
		return nil, false
	}
	// ReadAll stops at EOF, which flate's reader returns only after the
	// final block; a stream cut at exactly limit+1 bytes is over the limit.
	return out, true
}

// checkSame fails unless Decompress and compress/flate give the same bytes,
// or both refuse.
func checkSame(t testing.TB, src []byte, limit int) {
	t.Helper()
	want, wantOK := stdInflate(src, limit)
	got, err := Decompress(nil, src, limit)
	switch {
	case wantOK && err != nil:
		t.Fatalf("compress/flate inflates %x (%d bytes), Decompress refuses: %v", src, len(want), err)
	case !wantOK && err == nil:
		t.Fatalf("compress/flate refuses %x, Decompress gives %d bytes", src, len(got))
	case wantOK && !bytes.Equal(got, want):
		t.Fatalf("%x: Decompress gives %q, compress/flate %q", src, got, want)
	case err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge):
		t.Fatalf("%x: undocumented error %v", src, err)
	}
}

// sessionLike returns a JSON payload of about n bytes shaped like a session
// with a cart.
func sessionLike(rng *rand.Rand, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"sid":"n2b0Q1kqVQpXbZ0hGmB6Yw","iat":%d,"v":{"user":"ada","cart":[`, 1764160000+rng.IntN(1e6))
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"sku":"SKU-%05d-%06x","name":"Item number %d","qty":%d,"price":%d},`,
			i, rng.Uint32()&0xffffff, i, 1+rng.IntN(3), 100+rng.IntN(9900))
	}
	b.WriteString(`{}]}}`)
	return []byte(b.String())
}

// corpus returns varied inputs: sessions, text, runs, random bytes, skewed
// symbol frequencies (long codes).
func corpus() [][]byte {
	rng := rand.New(rand.NewPCG(17, 1951))
	in := [][]byte{{}, {0}, []byte("a"), bytes.Repeat([]byte("a"), 70000), bytes.Repeat([]byte("ab"), 300)}
	for _, n := range []int{200, 300, 2500, 10000, 60000} {
		in = append(in, sessionLike(rng, n))
	}
	random := make([]byte, 40000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	in = append(in, random[:100], random)
	var skewed []byte
	for i, a, b := 0, 1, 1; i < 20; i, a, b = i+1, b, a+b {
		skewed = append(skewed, bytes.Repeat([]byte{byte('A' + i)}, a)...)
	}
	rng.Shuffle(len(skewed), func(i, j int) { skewed[i], skewed[j] = skewed[j], skewed[i] })
	return append(in, skewed)
}

// TestDecompressStdlib inflates what compress/flate writes at every level,
// in one block and flushed into many (stored and empty blocks among them).
func TestDecompressStdlib(t *testing.T) {
	for i, src := range corpus() {
		for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
			for _, flushEvery := range []int{0, 1000} {
				var z bytes.Buffer
				w, _ := flate.NewWriter(&z, level)
				for rest := src; len(rest) > 0; {
					k := len(rest)
					if flushEvery > 0 {
						k = min(k, flushEvery)
					}
					w.Write(rest[:k])
					rest = rest[k:]
					if flushEvery > 0 {
						w.Flush()
					}
				}
				w.Close()
				got, err := Decompress(nil, z.Bytes(), len(src))
				if err != nil || !bytes.Equal(got, src) {
					t.Fatalf("input %d (%d bytes), level %d, flush every %d: %v", i, len(src), level, flushEvery, err)
				}
				if len(src) > 0 {
					if _, err := Decompress(nil, z.Bytes(), len(src)-1); !errors.Is(err, ErrTooLarge) {
						t.Fatalf("input %d, level %d, limit one short: %v, want ErrTooLarge", i, level, err)
					}
				}
			}
		}
	}
}

// TestDecompressZlib inflates the streams zlib wrote in
// testdata/zlib-streams.txt (made by testdata/zlib.py) at levels 0 to 9
// with each of its strategies, and checks each output's length and SHA-256.
func TestDecompressZlib(t *testing.T) {
	f, err := os.Open("testdata/zlib-streams.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	streams := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		fields := strings.Fields(sc.Text())
		if len(fields) != 5 {
			t.Fatalf("line %q", sc.Text())
		}
		size, err1 := strconv.Atoi(fields[2])
		z, err2 := base64.StdEncoding.DecodeString(fields[4])
		if err1 != nil || err2 != nil {
			t.Fatalf("line %q: %v %v", sc.Text(), err1, err2)
		}
		got, err := Decompress(nil, z, size)
		sum := sha256.Sum256(got)
		if err != nil || len(got) != size || hex.EncodeToString(sum[:]) != fields[3] {
			t.Fatalf("zlib level %s strategy %s, %d bytes: got %d bytes, %v", fields[0], fields[1], size, len(got), err)
		}
		streams++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if streams < 300 {
		t.Fatalf("%d zlib streams, want 300 or more", streams)
	}
}

// bitWriter writes DEFLATE bits by hand, for the streams no encoder writes.
type bitWriter struct {
	out   []byte
	nbits uint
}

// bits writes the n low bits of v, lowest first (header fields, extra bits).
func (w *bitWriter) bits(v uint32, n uint) *bitWriter {
	for i := uint(0); i < n; i++ {
		if w.nbits%8 == 0 {
			w.out = append(w.out, 0)
		}
		w.out[len(w.out)-1] |= byte(v>>i&1) << (w.nbits % 8)
		w.nbits++
	}
	return w
}

// align writes zero bits up to a byte boundary.
func (w *bitWriter) align() *bitWriter {
	w.nbits = uint(len(w.out)) * 8
	return w
}

// code writes a Huffman code of n bits, highest first.
func (w *bitWriter) code(c uint32, n uint) *bitWriter {
	for i := n; i > 0; i-- {
		w.bits(c>>(i-1)&1, 1)
	}
	return w
}

// fixedLitCode returns the fixed code of a literal/length symbol.
func fixedLitCode(sym int) (uint32, uint) {
	switch {
	case sym < 144:
		return uint32(0x30 + sym), 8
	case sym < 256:
		return uint32(0x190 + sym - 144), 9
	case sym < 280:
		return uint32(sym - 256), 7
	}
	return uint32(0xc0 + sym - 280), 8
}

func fixedBlock(final uint32, syms ...int) *bitWriter {
	w := new(bitWriter).bits(final, 1).bits(1, 2)
	for _, s := range syms {
		w.code(fixedLitCode(s))
	}
	return w
}

// dynamicHeader writes a dynamic block's header with the given code-length
// code lengths (in symbol order) and the literal/length and distance
// lengths, each written as a code-length symbol of the code-length code
// given by clCodes (symbol: code, length).
func dynamicHeader(final uint32, nlit, ndist int, cl [19]uint8, syms []int, clCodes map[int][2]uint32) *bitWriter {
	w := new(bitWriter).bits(final, 1).bits(2, 2).bits(uint32(nlit-257), 5).bits(uint32(ndist-1), 5).bits(19-4, 4)
	for _, s := range codeLenOrder {
		w.bits(uint32(cl[s]), 3)
	}
	for _, s := range syms {
		c := clCodes[s]
		w.code(c[0], uint(c[1]))
	}
	return w
}

// TestDecompressRefuses checks each way a stream can be wrong, on streams
// written bit by bit, against compress/flate.
func TestDecompressRefuses(t *testing.T) {
	// A code-length code of 8 symbols of 3 bits each: 0, 1, 2, 3, 8, 16,
	// 17 and 18.
	var cl [19]uint8
	clSyms := []int{0, 1, 2, 3, 8, 16, 17, 18}
	clCodes := map[int][2]uint32{}
	for i, s := range clSyms {
		cl[s] = 3
		clCodes[s] = [2]uint32{uint32(i), 3}
	}
	lit := func(n int, set map[int]uint8) []int {
		var out []int
		for i := 0; i < n; i++ {
			out = append(out, int(set[i]))
		}
		return out
	}
	// Literals 'a' and 'b' and end of block, codes 10, 0 and 11.
	threeLits := map[int]uint8{'a': 2, 'b': 1, 256: 2}
	dynamic := func(nlit, ndist int, lits map[int]uint8, dists []int) *bitWriter {
		syms := append(lit(nlit, lits), dists...)
		return dynamicHeader(1, nlit, ndist, cl, syms, clCodes)
	}

	cases := []struct {
		name   string
		stream []byte
		want   error // nil: inflates (to what compress/flate gives)
	}{
		{"empty input", nil, ErrCorrupt},
		{"fixed, empty", fixedBlock(1, 256).out, nil},
		{"fixed, literals", fixedBlock(1, 'h', 'i', 255, 256).out, nil},
		{"fixed, not final then final", fixedBlock(0, 'x', 256).bits(1, 1).bits(1, 2).code(fixedLitCode('y')).code(fixedLitCode(256)).out, nil},
		{"fixed, not final then nothing", fixedBlock(0, 'x', 256).out, ErrCorrupt},
		{"fixed then stored", fixedBlock(0, 'x', 256).bits(1, 1).bits(0, 2).align().bits(0xfffe0001, 32).bits('s', 8).out, nil}, {"fixed, truncated", fixedBlock(1, 'h', 'i').out, ErrCorrupt},
		{"fixed, length symbol 286", fixedBlock(1, 'a', 286).out, ErrCorrupt},
		{"fixed, length symbol 287", fixedBlock(1, 'a', 287).out, ErrCorrupt},
		{"fixed, distance 30", fixedBlock(1, 'a', 257).code(30, 5).out, ErrCorrupt},
		{"fixed, distance 31", fixedBlock(1, 'a', 257).code(31, 5).out, ErrCorrupt},
		{"fixed, distance before the start", fixedBlock(1, 'a', 257).code(1, 5).out, ErrCorrupt},
		{"fixed, distance from the start", fixedBlock(1, 'a', 257).code(0, 5).code(fixedLitCode(256)).out, nil},
		{"fixed, trailing bytes", append(fixedBlock(1, 'z', 256).out, "trailing"...), nil},
		{"block type 3", new(bitWriter).bits(1, 1).bits(3, 2).bits(0, 16).out, ErrCorrupt},
		{"stored", append(new(bitWriter).bits(1, 1).bits(0, 2).out, 3, 0, 0xfc, 0xff, 'a', 'b', 'c'), nil},
		{"stored, empty", append(new(bitWriter).bits(1, 1).bits(0, 2).out, 0, 0, 0xff, 0xff), nil},
		{"stored, NLEN wrong", append(new(bitWriter).bits(1, 1).bits(0, 2).out, 3, 0, 0xfc, 0xfe, 'a', 'b', 'c'), ErrCorrupt},
		{"stored, truncated data", append(new(bitWriter).bits(1, 1).bits(0, 2).out, 3, 0, 0xfc, 0xff, 'a', 'b'), ErrCorrupt},
		{"stored, truncated length", append(new(bitWriter).bits(1, 1).bits(0, 2).out, 3, 0, 0xfc), ErrCorrupt},
		{"dynamic", dynamic(257, 1, threeLits, []int{1}).code(2, 2).code(0, 1).code(3, 2).out, nil},
		{"dynamic, truncated", dynamic(257, 1, threeLits, []int{1}).code(2, 2).code(0, 1).out, ErrCorrupt},
		{"dynamic, HLIT 287", dynamic(287, 1, threeLits, []int{1}).code(3, 2).out, ErrCorrupt},
		{"dynamic, HDIST 31", dynamic(257, 31, threeLits, make([]int, 31)).code(3, 2).out, ErrCorrupt},
		{"dynamic, literal code oversubscribed", dynamic(257, 1, map[int]uint8{'a': 1, 'b': 1, 256: 1}, []int{1}).out, ErrCorrupt},
		{"dynamic, literal code incomplete", dynamic(257, 1, map[int]uint8{'a': 2, 'b': 2, 256: 2}, []int{1}).out, ErrCorrupt},
		{"dynamic, literal code a single one-bit code (end of block)", dynamic(257, 1, map[int]uint8{256: 1}, []int{1}).code(0, 1).out, nil},
		{"dynamic, the missing code of a one-bit code", dynamic(257, 1, map[int]uint8{256: 1}, []int{1}).code(1, 1).out, ErrCorrupt},
		{"dynamic, no distance code, no distance used", dynamic(257, 1, threeLits, []int{0}).code(2, 2).code(3, 2).out, nil},
		{"dynamic, no distance code, a distance used", dynamic(257, 1, map[int]uint8{'a': 2, 257: 2, 256: 1}, []int{0}).code(2, 2).code(3, 2).code(0, 1).out, ErrCorrupt},
		{"dynamic, distance code incomplete", dynamic(257, 2, threeLits, []int{2, 2}).code(3, 2).out, ErrCorrupt},
		{"dynamic, no end of block code", dynamic(257, 1, map[int]uint8{'a': 1, 'b': 1}, []int{1}).code(0, 1).out, ErrCorrupt},
		{"dynamic, repeat with nothing before", dynamicHeader(1, 257, 1, cl, []int{16}, clCodes).bits(0, 2).out, ErrCorrupt},
		{"dynamic, repeat past the end", dynamicHeader(1, 257, 1, cl, []int{18, 18, 18}, clCodes).bits(127, 7).bits(127, 7).bits(127, 7).out, ErrCorrupt},
	}
	// The code-length code itself: oversubscribed, incomplete.
	var over, short [19]uint8
	for _, s := range clSyms {
		over[s], short[s] = 2, 3
	}
	short[18] = 0
	cases = append(cases,
		struct {
			name   string
			stream []byte
			want   error
		}{"dynamic, code-length code oversubscribed", dynamicHeader(1, 257, 1, over, nil, nil).bits(0, 32).out, ErrCorrupt},
		struct {
			name   string
			stream []byte
			want   error
		}{"dynamic, code-length code incomplete", dynamicHeader(1, 257, 1, short, nil, nil).bits(0, 32).out, ErrCorrupt},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkSame(t, c.stream, 1<<16)
			_, err := Decompress(nil, c.stream, 1<<16)
			if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Fatalf("%x: %v, want %v", c.stream, err, c.want)
			}
		})
	}
}

// TestDecompressLimit checks the limit exactly, for a stream of each kind,
// and that a limit reached stops a bomb: 4 MiB from a few KB.
func TestDecompressLimit(t *testing.T) {
	for _, src := range [][]byte{[]byte("abc"), bytes.Repeat([]byte("x"), 5000), sessionLike(rand.New(rand.NewPCG(1, 2)), 3000)} {
		for _, level := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, flate.BestCompression} {
			var z bytes.Buffer
			w, _ := flate.NewWriter(&z, level)
			w.Write(src)
			w.Close()
			if got, err := Decompress(nil, z.Bytes(), len(src)); err != nil || !bytes.Equal(got, src) {
				t.Fatalf("level %d, %d bytes, limit exact: %v", level, len(src), err)
			}
			if _, err := Decompress(nil, z.Bytes(), len(src)-1); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("level %d, %d bytes, limit one short: %v", level, len(src), err)
			}
			// Appending: the limit counts what is appended.
			dst := []byte("prefix")
			if got, err := Decompress(dst, z.Bytes(), len(src)); err != nil || string(got) != "prefix"+string(src) {
				t.Fatalf("level %d, appending: %v", level, err)
			}
		}
	}
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(make([]byte, 4<<20))
	w.Close()
	if _, err := Decompress(nil, z.Bytes(), 250_000); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("bomb of %d bytes: %v", z.Len(), err)
	}
}

// TestDecompressAllocs checks that a decoder, once used, allocates nothing
// when dst has room for the limit. (A decoder of its own, not the pool's:
// under -race, sync.Pool drops items at random.)
func TestDecompressAllocs(t *testing.T) {
	src := sessionLike(rand.New(rand.NewPCG(3, 4)), 2500)
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestSpeed)
	w.Write(src)
	w.Close()
	dst := make([]byte, 0, 1<<16)
	d := new(decoder)
	d.decompress(dst, z.Bytes(), 1<<16)
	if n := testing.AllocsPerRun(100, func() { d.decompress(dst, z.Bytes(), 1<<16) }); n != 0 {
		t.Fatalf("%v allocations, want 0", n)
	}
}

// TestDecompressMutations checks every single-byte change and every
// truncation of a few streams against compress/flate.
func TestDecompressMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, level := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression} {
		var z bytes.Buffer
		w, _ := flate.NewWriter(&z, level)
		w.Write(sessionLike(rng, 400))
		w.Close()
		stream := z.Bytes()
		for i := range stream {
			checkSame(t, stream[:i], 1<<16)
			m := bytes.Clone(stream)
			for _, x := range []byte{1, 0x10, 0x80, byte(rng.Uint32()) | 1} {
				m[i] = stream[i] ^ x
				checkSame(t, m, 1<<16)
				checkSame(t, m, 300)
			}
		}
	}
}

// fuzzMaxStream bounds FuzzDecompressDifferential's streams: a few KB reach
// every kind of block and every error, and the fuzzer, which grows inputs
// without limit and minimizes each one that finds new coverage, stays fast
// (see fuzzMaxDeflate). Larger streams are the unit tests'.
const fuzzMaxStream = 4 << 10

// FuzzDecompressDifferential: on any bytes, Decompress and compress/flate
// give the same output or both refuse, at a limit the fuzzer picks too.
func FuzzDecompressDifferential(f *testing.F) {
	for _, src := range corpus()[:8] {
		for _, level := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, flate.BestCompression} {
			var z bytes.Buffer
			w, _ := flate.NewWriter(&z, level)
			w.Write(src[:min(len(src), 3000)])
			w.Close()
			f.Add(z.Bytes(), uint16(len(src)))
		}
	}
	f.Add(fixedBlock(1, 'a', 257).code(0, 5).code(fixedLitCode(256)).out, uint16(100))
	f.Fuzz(func(t *testing.T, stream []byte, limit uint16) {
		if len(stream) > fuzzMaxStream {
			return
		}
		checkSame(t, stream, int(limit))
	})
}

// BenchmarkDecompress against compress/flate's pooled, reset reader, on
// payloads compressed by compress/flate's fastest level.
func BenchmarkDecompress(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{300, 2500, 10000} {
		src := sessionLike(rng, n)
		var z bytes.Buffer
		w, _ := flate.NewWriter(&z, flate.BestSpeed)
		w.Write(src)
		w.Close()
		dst := make([]byte, 0, 1<<18)
		b.Run(fmt.Sprint("impl=ours/bytes=", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := Decompress(dst, z.Bytes(), 1<<18); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprint("impl=compress-flate/bytes=", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			r := flate.NewReader(nil)
			br := bytes.NewReader(nil)
			for b.Loop() {
				br.Reset(z.Bytes())
				r.(flate.Resetter).Reset(br, nil)
				if _, err := io.ReadFull(r, dst[:len(src)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
