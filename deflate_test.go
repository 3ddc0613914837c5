package cookiesession

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// deflateInputs are inputs that exercise every path of the deflater: no
// match, matches of every length up to 258 and beyond, distances up to the
// window and beyond it, skewed frequencies that need length-limited codes,
// and JSON like a session's.
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
		"empty":    {},
		"one":      {'x'},
		"three":    []byte("abc"),
		"four":     []byte("abcd"),
		"run-259":  bytes.Repeat([]byte{'a'}, 259),
		"run-1000": bytes.Repeat([]byte{0}, 1000),
		"random":   random(3000),
		"random-1": random(1),
		"text":     []byte(strings.Repeat("the quick brown fox jumps over the lazy dog. ", 50)),
	}
	// Repeats at distances 1..40000 bytes, so some fall outside the window.
	for _, dist := range []int{1, 2, 5, 255, 256, 4097, 32767, 32768, 32769, 40000} {
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
	// A session payload.
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
	return in
}

func inflateAll(t *testing.T, compressed []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(flate.NewReader(bytes.NewReader(compressed)))
	if err != nil {
		t.Fatalf("compress/flate cannot read the output: %v", err)
	}
	return out
}

func TestDeflateRoundTrip(t *testing.T) {
	for name, src := range deflateInputs() {
		t.Run(name, func(t *testing.T) {
			// Twice through one pooled deflater: the second call must not see
			// the first input through the hash table.
			for range 2 {
				z := deflate([]byte("prefix"), src)
				if !bytes.HasPrefix(z, []byte("prefix")) {
					t.Fatal("deflate did not append to dst")
				}
				if got := inflateAll(t, z[len("prefix"):]); !bytes.Equal(got, src) {
					t.Fatalf("round trip differs: got %d bytes, want %d", len(got), len(src))
				}
			}
		})
	}
}

// TestDeflateRatio checks that compression still pays on what sessions hold:
// no worse than compress/flate at its fastest level, give or take 10%.
func TestDeflateRatio(t *testing.T) {
	for _, name := range []string{"json", "text", "lengths"} {
		src := deflateInputs()[name]
		var ref bytes.Buffer
		w, _ := flate.NewWriter(&ref, flate.BestSpeed)
		w.Write(src)
		w.Close()
		t.Logf("%s: %d -> %d bytes (compress/flate BestSpeed %d)", name, len(src), len(deflate(nil, src)), ref.Len())
		if got := len(deflate(nil, src)); got > ref.Len()*11/10 {
			t.Errorf("%s: %d bytes, compress/flate BestSpeed %d", name, got, ref.Len())
		}
	}
}

// TestHuffmanLengths checks the codes: within the length limit, complete
// (Kraft sum of exactly one) for two symbols or more, one bit for one.
func TestHuffmanLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	var h huffScratch
	for trial := range 2000 {
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
			default:
				freq[sym] = 1 + rng.Int32N(1000)
			}
		}
		lens := make([]uint8, n)
		h.code(freq, lens, make([]uint16, n), maxBits)
		kraft := 0
		for sym, l := range lens {
			if (l == 0) != (freq[sym] == 0) {
				t.Fatalf("trial %d: symbol %d of frequency %d has length %d", trial, sym, freq[sym], l)
			}
			if int(l) > maxBits {
				t.Fatalf("trial %d: length %d over %d", trial, l, maxBits)
			}
			if l != 0 {
				kraft += 1 << (maxBits - int(l))
			}
		}
		want := 1 << maxBits
		if used == 1 {
			want = 1 << (maxBits - 1)
		}
		if kraft != want {
			t.Fatalf("trial %d (%d symbols): Kraft sum %d/%d", trial, used, kraft, 1<<maxBits)
		}
	}
}

func TestDeflateCodes(t *testing.T) {
	for l := 0; l <= 255; l++ {
		code, extra, n := lengthCode(l)
		base := []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}[code-257]
		bits := []uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}[code-257]
		if n != bits || base+int(extra) != l+3 || extra >= 1<<n && n > 0 {
			t.Fatalf("length %d: code %d extra %d/%d", l+3, code, extra, n)
		}
	}
	for x := 0; x < zWindow; x++ {
		code, extra, n := distCode(x)
		base := []int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}[code]
		if n != uint(max(0, code/2-1)) || base+int(extra) != x+1 {
			t.Fatalf("distance %d: code %d extra %d/%d", x+1, code, extra, n)
		}
	}
}

func FuzzDeflate(f *testing.F) {
	for _, src := range deflateInputs() {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if got := inflateAll(t, deflate(nil, src)); !bytes.Equal(got, src) {
			t.Fatalf("round trip differs")
		}
	})
}

func BenchmarkDeflate(b *testing.B) {
	in := deflateInputs()["json"]
	for _, n := range []int{300, 2600, 6084} {
		src := in[:n]
		b.Run(fmt.Sprint("bytes=", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			var dst []byte
			for b.Loop() {
				dst = deflate(dst[:0], src)
			}
		})
	}
}
