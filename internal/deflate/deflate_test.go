package deflate

import (
	"bytes"
	"cmp"
	"compress/flate"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomToken returns n random base64url characters drawn from rng.
func randomToken(rng *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// deflateSession returns the JSON of a session like those the benchmarks
// seal, of at least n bytes: the claims, a CSRF token, a few preferences and
// then a cart of items with random SKUs and prices, so that it compresses as
// much as a real one (it is seeded by n: the same n, the same bytes).
func deflateSession(n int) []byte {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	token := func(n int) string { return randomToken(rng, n) }
	var b strings.Builder
	fmt.Fprintf(&b, `{"sid":"%s","iat":1795706594,"lat":1795706594,"exp":1795710194,"v":{"admin":false,"csrf":"%s",`, token(22), token(43))
	b.WriteString(`"email":"ada@example.org","locale":"en-GB","return_to":"/account/orders/2025/11?page=2\u0026sort=date","theme":"dark","user":"ada","user_id":48213`)
	for i := 1; b.Len() < n; i++ {
		if i == 1 {
			b.WriteString(`,"cart":[`)
		} else {
			b.WriteString(`,`)
		}
		fmt.Fprintf(&b, `{"name":"Item number %d, a fine thing","price":%d,"qty":%d,"sku":"SKU-%05d-%s"}`, i, 100+rng.IntN(9900), 1+rng.IntN(3), i, token(6))
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// deflateInputs are inputs that exercise every path of the deflater: no
// match, matches of every length up to 258 and beyond, distances up to the
// window and beyond it, skewed frequencies that need length-limited codes,
// bytes over 127, runs of more than 138 unused symbols, JSON like a
// session's, and sizes on both sides of each size of the hash table.
func deflateInputs() map[string][]byte {
	rng := rand.New(rand.NewPCG(7, 11))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	in := map[string][]byte{
		"empty":     {},
		"one":       {'x'},
		"two":       []byte("xy"),
		"three":     []byte("abc"),
		"four":      []byte("abcd"),
		"five-same": []byte("aaaaa"),
		"run-259":   bytes.Repeat([]byte{'a'}, 259),
		"run-1000":  bytes.Repeat([]byte{0}, 1000),
		"run-max":   bytes.Repeat([]byte{0xff}, 1+258*5),
		"random":    random(3000),
		"random-1":  random(1),
		"random-9":  random(9),
		"text":      []byte(strings.Repeat("the quick brown fox jumps over the lazy dog. ", 50)),
		"utf8":      []byte(strings.Repeat(`{"name":"Zoë Ångström","city":"Kraków","note":"日本語のテキスト"}`, 20)),
		"far-apart": bytes.Repeat([]byte{0, 0, 0, 255, 255, 0, 255}, 40), // 255 runs of zero lengths
		"all-bytes": func() []byte {
			b := make([]byte, 0, 512)
			for i := range 512 {
				b = append(b, byte(i*7))
			}
			return b
		}(),
	}
	// Repeats at distances 1..40000 bytes, so some fall outside the window.
	for _, dist := range []int{1, 2, 5, 255, 256, 257, 4097, 32767, 32768, 32769, 40000} {
		b := random(dist)
		in[fmt.Sprint("dist-", dist)] = append(b, b[:min(dist, 300)]...)
	}
	// Every match length from 4 to 300.
	var lengths []byte
	for n := 4; n <= 300; n++ {
		chunk := random(n)
		lengths = append(lengths, chunk...)
		lengths = append(lengths, random(3)...)
		lengths = append(lengths, chunk...)
	}
	in["lengths"] = lengths
	// Fibonacci frequencies force codes longer than 15 bits to be limited.
	var fib []byte
	a, b := 1, 1
	for sym := 0; sym < 25; sym++ {
		fib = append(fib, bytes.Repeat([]byte{byte('A' + sym)}, a)...)
		a, b = b, a+b
	}
	rng.Shuffle(len(fib), func(i, j int) { fib[i], fib[j] = fib[j], fib[i] })
	in["fibonacci"] = fib
	// A session payload of a JSON encoder, and sessions of sizes around
	// MinCompressBytes and each size of the hash table (a power of two, at
	// 1<<(zMinHashBits-1) and up), also cut short of their end.
	var js strings.Builder
	js.WriteString(`{"sid":"n2b0Q1kqVQpXbZ0hGmB6Yw","iat":1764160000,"lat":1764160000,"exp":1764246400,"v":{"cart":[`)
	for i := range 80 {
		if i > 0 {
			js.WriteByte(',')
		}
		fmt.Fprintf(&js, `{"sku":"SKU-%05d-%x","name":"Item number %d, a fine thing","qty":%d}`, i, rng.Uint32(), i, i%3+1)
	}
	js.WriteString(`]}}`)
	in["json"] = []byte(js.String())
	for _, n := range []int{200, 255, 256, 257, 293, 511, 512, 513, 1023, 1024, 2048, 2600, 4095, 4096, 8191, 8192, 10000, 16384, 40000} {
		s := deflateSession(n)
		in[fmt.Sprint("session-", n)] = s
		in[fmt.Sprint("session-cut-", n)] = s[:n]
		in[fmt.Sprint("random-", n)] = random(n)
	}
	return in
}

// deflateLongCodes returns an input whose literal/length code needs codes of
// 15 bits, whose distance code needs long codes too, and whose matches take
// the most extra bits (lengths of 227 to 257, distances of 24577 to 32768):
// the most bits the block writer adds between two flushes.
func deflateLongCodes() []byte {
	rng := rand.New(rand.NewPCG(5, 8))
	var b []byte
	// Literals with frequencies from 1 to 2^18, doubling: the rarest get
	// codes of 15 bits, the limit.
	for sym := range 19 {
		b = append(b, bytes.Repeat([]byte{byte('a' + sym)}, 1<<sym)...)
	}
	rng.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
	// Rare symbols from 128 up (9-bit fixed codes) between long matches
	// from far back.
	for i := range 40 {
		from := len(b) - 24577 - rng.IntN(8000)
		n := 227 + rng.IntN(31)
		b = append(b, byte(128+i))
		b = append(b, b[from:from+n]...)
	}
	return b
}

// mustDeflate appends the compression of src to dst with d, or with a
// pooled deflater when d is nil, and fails t on an error.
func mustDeflate(t testing.TB, d *deflater, dst, src []byte) []byte {
	t.Helper()
	var z []byte
	var err error
	if d == nil {
		z, err = Compress(dst, src)
	} else {
		z, err = d.compress(dst, src)
	}
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func inflateAll(t testing.TB, compressed []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(flate.NewReader(bytes.NewReader(compressed)))
	if err != nil {
		t.Fatalf("compress/flate cannot read the output: %v", err)
	}
	return out
}

// blockType returns BTYPE of the first block of a DEFLATE stream: 1 fixed
// codes, 2 dynamic.
func blockType(z []byte) int { return int(z[0]>>1) & 3 }

func TestDeflateRoundTrip(t *testing.T) {
	in := deflateInputs()
	in["long-codes"] = deflateLongCodes()
	for name, src := range in {
		t.Run(name, func(t *testing.T) {
			// Twice through one pooled deflater: the second call must not see
			// the first input through the hash table. Then through a new one:
			// the output depends on the input only.
			var first []byte
			for i := range 3 {
				var z []byte
				if i < 2 {
					z = mustDeflate(t, nil, []byte("prefix"), src)
				} else {
					z = mustDeflate(t, new(deflater), []byte("prefix"), src)
				}
				if !bytes.HasPrefix(z, []byte("prefix")) {
					t.Fatal("deflate did not append to dst")
				}
				z = z[len("prefix"):]
				if got := inflateAll(t, z); !bytes.Equal(got, src) {
					t.Fatalf("round trip differs: got %d bytes, want %d", len(got), len(src))
				}
				if first == nil {
					first = z
				} else if !bytes.Equal(z, first) {
					t.Fatal("output differs from call to call")
				}
			}
		})
	}
}

// TestDeflateBlockTypes checks that both kinds of block are written, each
// when it is the shorter: a fixed block is never longer than its size
// computed from the frequencies, and a dynamic one is only written when it
// is shorter than the fixed one.
func TestDeflateBlockTypes(t *testing.T) {
	types := map[int]int{}
	for name, src := range deflateInputs() {
		d := new(deflater)
		z := mustDeflate(t, d, nil, src)
		fixedBits, _, _ := d.fixedSize(len(src))
		fixedBytes := (fixedBits + 7) / 8
		switch bt := blockType(z); {
		case bt == 1 && len(z) != fixedBytes:
			t.Errorf("%s: fixed block of %d bytes, computed %d", name, len(z), fixedBytes)
		case bt == 2 && len(z) > fixedBytes:
			t.Errorf("%s: dynamic block of %d bytes, the fixed one would be %d", name, len(z), fixedBytes)
		case bt != 1 && bt != 2:
			t.Errorf("%s: block type %d", name, bt)
		case bt == 2 && countNonZero(d.clFreq[:]) < 2:
			// Which writeBlock relies on: zlib refuses a code-length
			// code of one symbol.
			t.Errorf("%s: the code-length code has %d symbols", name, countNonZero(d.clFreq[:]))
		}
		types[blockType(z)]++
	}
	if types[1] == 0 || types[2] == 0 {
		t.Fatalf("block types %v, want both fixed (1) and dynamic (2)", types)
	}
	for name, want := range map[string]int{"empty": 1, "one": 1, "text": 1, "json": 2, "session-293": 2, "session-10000": 2, "long-codes": 2} {
		src := deflateInputs()[name]
		if name == "long-codes" {
			src = deflateLongCodes()
		}
		if got := blockType(mustDeflate(t, nil, nil, src)); got != want {
			t.Errorf("%s: block type %d, want %d", name, got, want)
		}
	}
}

// TestDeflateSizeCheck makes the size computed for a block disagree with
// the bytes written, as a bug in counting or in sizing would, both ways:
// symbols counted that the data lacks (computed too long), or counts lowered
// under the data's (computed too short: the writer runs past the room
// reserved). deflate.go panicked on both; now write returns ErrInternal and
// dst as it was, unless the counts changed do not size the block written,
// and the pooled deflate of the same input still works.
func TestDeflateSizeCheck(t *testing.T) {
	in := deflateInputs()
	var checked, recovered int
	for _, name := range []string{"text", "json", "session-293", "session-10000"} {
		src := in[name]
		most := 0 // the literal counted most
		for c := range 256 {
			if bytes.Count(src, []byte{byte(c)}) > bytes.Count(src, []byte{byte(most)}) {
				most = c
			}
		}
		for _, tamper := range []struct {
			what string
			f    func(d *deflater)
		}{
			{"literals counted, never written", func(d *deflater) { d.litFreq[0x01] += 500 }},
			{"a match counted, never written", func(d *deflater) { d.litFreq[257+28] += 100; d.distFreq[29] += 100 }},
			{"literals written, not counted", func(d *deflater) { d.litFreq[most] = min(d.litFreq[most], 1) }},
			{"a few literals written, not counted", func(d *deflater) { d.litFreq[most] = max(d.litFreq[most]-40, 1) }},
		} {
			d := new(deflater)
			d.count(src)
			before := d.litFreq
			tamper.f(d)
			if d.litFreq == before {
				continue // nothing to lower
			}
			out, err := d.write([]byte("prefix"), src)
			switch {
			case err == nil:
				// The counts that changed did not size the block written
				// (a fixed block sizes literals under 144 by their number).
				if got := inflateAll(t, out[len("prefix"):]); !bytes.Equal(got, src) {
					t.Errorf("%s, %s: no error, and the output does not inflate to the input", name, tamper.what)
				}
			case !errors.Is(err, ErrInternal) || string(out) != "prefix":
				t.Errorf("%s, %s: %q, %v; want ErrInternal and dst unchanged", name, tamper.what, out, err)
			case strings.Contains(err.Error(), "past"):
				recovered++
			default:
				checked++
			}
		}
		if got := inflateAll(t, mustDeflate(t, nil, nil, src)); !bytes.Equal(got, src) {
			t.Fatalf("%s: round trip differs after the failures", name)
		}
	}
	if checked == 0 || recovered == 0 {
		t.Errorf("size check failed %d times, writer stopped past its room %d times: want both", checked, recovered)
	}
}

// TestDeflateLongCodes checks that deflateLongCodes takes the block writer
// where it adds the most bits: codes of 15 bits, the longest matches far
// back.
func TestDeflateLongCodes(t *testing.T) {
	src := deflateLongCodes()
	d := new(deflater)
	mustDeflate(t, d, nil, src)
	longest := uint32(0)
	for _, sym := range d.litOrder[:countNonZero(d.litFreq[:])] {
		longest = max(longest, d.litCode[sym]>>16)
	}
	if longest != zMaxBits {
		t.Errorf("longest literal/length code %d bits, want %d", longest, zMaxBits)
	}
	if d.distFreq[29] == 0 || d.litFreq[284] == 0 {
		t.Errorf("no match with the most extra bits: distance symbol 29 ×%d, length symbol 284 ×%d", d.distFreq[29], d.litFreq[284])
	}
}

// TestDeflateRatio checks that compression still pays on what sessions hold:
// no worse than compress/flate at its fastest level, give or take 10%.
func TestDeflateRatio(t *testing.T) {
	in := deflateInputs()
	for _, name := range []string{"json", "text", "lengths", "session-293", "session-2600", "session-10000"} {
		src := in[name]
		var ref bytes.Buffer
		w, _ := flate.NewWriter(&ref, flate.BestSpeed)
		w.Write(src)
		w.Close()
		got := len(mustDeflate(t, nil, nil, src))
		t.Logf("%s: %d -> %d bytes (compress/flate BestSpeed %d)", name, len(src), got, ref.Len())
		if got > ref.Len()*11/10 {
			t.Errorf("%s: %d bytes, compress/flate BestSpeed %d", name, got, ref.Len())
		}
	}
}

// TestDeflateAllocs checks that a deflater, once used, allocates nothing when dst
// has room.
func TestDeflateAllocs(t *testing.T) {
	for _, n := range []int{293, 2600, 10000} {
		src := deflateSession(n)
		dst := make([]byte, 0, 2*len(src)+64)
		// A deflater of its own, not the pool's: under -race, sync.Pool
		// drops some of what is put back on purpose.
		d := new(deflater)
		d.compress(dst, src)
		if a := testing.AllocsPerRun(100, func() { d.compress(dst, src) }); a != 0 {
			t.Errorf("%d bytes: %v allocations per call", n, a)
		}
	}
}

// huffmanCost returns the cost (sum of frequency times length) of an optimal
// prefix code for freq, by the textbook algorithm with a heap.
func huffmanCost(freq []int32) int {
	var h intHeap
	for _, f := range freq {
		if f > 0 {
			h = append(h, int(f))
		}
	}
	if len(h) < 2 {
		return int(len(h)) * int(sumInt32(freq)) // one symbol: one bit
	}
	heap.Init(&h)
	cost := 0
	for h.Len() > 1 {
		a, b := heap.Pop(&h).(int), heap.Pop(&h).(int)
		cost += a + b
		heap.Push(&h, a+b)
	}
	return cost
}

func sumInt32(s []int32) (n int32) {
	for _, v := range s {
		n += v
	}
	return n
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// TestHuffmanLengths checks the codes: within the length limit, complete
// (Kraft sum of exactly one) for two symbols or more, one bit for one,
// optimal when the limit does not bind, canonical, and build's cost right.
func TestHuffmanLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	var h huffScratch
	for trial := range 3000 {
		n := []int{19, 30, 286}[trial%3]
		maxBits := zMaxBits
		if n == 19 {
			maxBits = zMaxCLBits
		}
		freq := make([]int32, n)
		used := 1 + rng.IntN(n)
		for _, sym := range rng.Perm(n)[:used] {
			switch trial % 4 {
			case 0: // Fibonacci-like: the deepest trees
				freq[sym] = int32(1) << min(rng.IntN(24), 20)
			case 1: // few distinct frequencies, many ties
				freq[sym] = 1 + rng.Int32N(3)
			default:
				freq[sym] = 1 + rng.Int32N(1000)
			}
		}
		code := make([]uint32, n)
		order := make([]uint16, n)
		cost, _ := h.build(h.collect(0, freq, 0), code, order, maxBits)
		kraft, sum, longest := 0, 0, 0
		var perLen [zMaxBits + 1][]int // the codes of each length, in symbol order
		for sym, c := range code {
			l := int(c >> 16)
			if (l == 0) != (freq[sym] == 0) {
				t.Fatalf("trial %d: symbol %d of frequency %d has length %d", trial, sym, freq[sym], l)
			}
			if l > maxBits {
				t.Fatalf("trial %d: length %d over %d", trial, l, maxBits)
			}
			if l != 0 {
				kraft += 1 << (maxBits - l)
				sum += int(freq[sym]) * l
				longest = max(longest, l)
				// Un-reverse the code for the canonical check.
				perLen[l] = append(perLen[l], int(reverseBits(c&0xffff, l)))
			}
		}
		want := 1 << maxBits
		if used == 1 {
			want = 1 << (maxBits - 1)
		}
		if kraft != want {
			t.Fatalf("trial %d (%d symbols): Kraft sum %d/%d", trial, used, kraft, 1<<maxBits)
		}
		if cost != sum {
			t.Fatalf("trial %d: build returned cost %d, the code costs %d", trial, cost, sum)
		}
		if opt := huffmanCost(freq); used > 1 && longest < maxBits && sum != opt {
			t.Fatalf("trial %d: cost %d, optimal %d", trial, sum, opt)
		}
		// Canonical: consecutive codes in symbol order within a length, and
		// each length's first code following the last of the shorter ones.
		next := 0
		for l := 1; l <= maxBits; l++ {
			next <<= 1
			for _, c := range perLen[l] {
				if c != next {
					t.Fatalf("trial %d: code %b of length %d, want %b", trial, c, l, next)
				}
				next++
			}
		}
		// Ties broken as before, so that the output never changes: in order
		// of frequency and then symbol, the lengths never grow.
		bySym := slices.Clone(order[:used])
		slices.SortStableFunc(bySym, func(a, b uint16) int { return cmp.Compare(freq[a], freq[b]) })
		for i := 1; i < len(bySym); i++ {
			if code[bySym[i]]>>16 > code[bySym[i-1]]>>16 {
				t.Fatalf("trial %d: symbol %d (frequency %d) has a longer code than %d (frequency %d)", trial, bySym[i], freq[bySym[i]], bySym[i-1], freq[bySym[i-1]])
			}
		}
		for i, sym := range order[:used] {
			if freq[sym] == 0 || i > 0 && sym <= order[i-1] {
				t.Fatalf("trial %d: order %v", trial, order[:used])
			}
		}
	}
}

func reverseBits(c uint32, n int) uint32 {
	r := uint32(0)
	for range n {
		r, c = r<<1|c&1, c>>1
	}
	return r
}

// TestDeflateCodes checks lengthCode and distCode against RFC 1951, and the
// tables LZ77 and the block writer use against them.
func TestDeflateCodes(t *testing.T) {
	for l := 0; l <= 255; l++ {
		code, extra, n := lengthCode(l)
		base := []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}[code-257]
		bits := []uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}[code-257]
		if n != bits || base+int(extra) != l+3 || extra >= 1<<n && n > 0 {
			t.Fatalf("length %d: code %d extra %d/%d", l+3, code, extra, n)
		}
		tok, lsym, _ := token(0, l, 0)
		if int(lsym) != code-257 || uint(zLenExtra[lsym]) != n || uint32(tok>>18&31) != extra || int(tok>>28&0xff) != l {
			t.Fatalf("length %d: token %x, symbol %d", l+3, tok, lsym)
		}
	}
	for x := 0; x < zWindow; x++ {
		code, extra, n := distCode(x)
		base := []int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}[code]
		if n != uint(max(0, code/2-1)) || base+int(extra) != x+1 {
			t.Fatalf("distance %d: code %d extra %d/%d", x+1, code, extra, n)
		}
		tok, _, dsym := token(0, 0, x)
		if int(dsym) != code || uint(zDistExtra[dsym]) != n || uint32(tok&0x1fff) != extra || int(tok>>13&31) != code {
			t.Fatalf("distance %d: token %x, symbol %d", x+1, tok, dsym)
		}
	}
	if tok, _, _ := token(1<<28-1, 0, 0); int(tok>>36) != 1<<28-1 {
		t.Fatalf("position lost: token %x", tok)
	}
}

// fuzzMaxDeflate bounds FuzzDeflate's inputs. The fuzzer minimizes every
// input that finds new coverage with calls that grow with the square of its
// length: on seeds of 4 KB that stalled both workers for most of a 20 s run.
// A kilobyte reaches both kinds of block, every run of zero code lengths,
// matches of every length and the faster steps over bytes that do not
// compress; TestDeflateRoundTrip takes the larger inputs (windows of 32 KB,
// codes of 15 bits).
const fuzzMaxDeflate = 1 << 10

func FuzzDeflate(f *testing.F) {
	for _, src := range deflateInputs() {
		f.Add(src[:min(len(src), fuzzMaxDeflate)])
	}
	d := new(deflater) // a worker calls the function from one goroutine
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > fuzzMaxDeflate {
			return
		}
		z := mustDeflate(t, nil, nil, src)
		if got := inflateAll(t, z); !bytes.Equal(got, src) {
			t.Fatalf("round trip differs")
		}
		if z2 := mustDeflate(t, d, nil, src); !bytes.Equal(z, z2) {
			t.Fatalf("output differs from call to call")
		}
		if blockType(z) == 2 && countNonZero(d.clFreq[:]) < 2 {
			t.Fatalf("the code-length code has %d symbols", countNonZero(d.clFreq[:]))
		}
	})
}

// BenchmarkDeflate compresses sessions like the benchmarks' (module
// benchmarks): the JSON payloads of their sizes 200B, 2.5KB and 10KB are
// about 293, 2660 and 10150 bytes.
func BenchmarkDeflate(b *testing.B) {
	for _, n := range []int{293, 2660, 10150} {
		src := deflateSession(n)
		b.Run(fmt.Sprint("bytes=", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			var dst []byte
			for b.Loop() {
				dst, _ = Compress(dst[:0], src)
			}
			b.ReportMetric(float64(len(dst)), "out-bytes")
		})
	}
}

// BenchmarkDeflateStdlib is compress/flate on the inputs of BenchmarkDeflate,
// its writer reused through Reset as a pool would, at its fastest level and
// at its default: the reference that deflate.go is measured against.
func BenchmarkDeflateStdlib(b *testing.B) {
	for _, level := range []int{flate.BestSpeed, flate.DefaultCompression} {
		for _, n := range []int{293, 2660, 10150} {
			src := deflateSession(n)
			var buf bytes.Buffer
			w, err := flate.NewWriter(&buf, level)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprint("level=", level, "/bytes=", n), func(b *testing.B) {
				b.SetBytes(int64(len(src)))
				for b.Loop() {
					buf.Reset()
					w.Reset(&buf)
					if _, err := w.Write(src); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(buf.Len()), "out-bytes")
			})
		}
	}
}

func countNonZero(s []int32) (n int) {
	for _, v := range s {
		if v != 0 {
			n++
		}
	}
	return n
}
