# zlib.py writes zlib-streams.txt: raw DEFLATE streams made by zlib (through
# Python's zlib module) at every level and strategy, for TestDecompressZlib.
# Run from this directory: python3 zlib.py
import base64, hashlib, json, random, zlib

def inputs():
    rng = random.Random(17)
    yield b""
    yield b"a"
    yield b"a" * 1000
    yield bytes(range(256)) * 4
    yield bytes(rng.getrandbits(8) for _ in range(800))
    for n in (1, 5, 40):
        cart = [{"sku": "SKU-%05d-%06x" % (i, rng.getrandbits(24)), "name": "Item number %d, a fine thing" % i,
                 "qty": rng.randint(1, 3), "price": rng.randint(100, 9999)} for i in range(n)]
        yield json.dumps({"sid": "n2b0Q1kqVQpXbZ0hGmB6Yw", "iat": 1764160000, "v": {"cart": cart, "user": "ada"}},
                         separators=(",", ":")).encode()
    # Symbol frequencies in a Fibonacci sequence: codes of up to 15 bits.
    fib, a, b = [], 1, 1
    for i in range(18):
        fib += [i + 65] * a
        a, b = b, a + b
    rng.shuffle(fib)
    yield bytes(fib)
    words = b"the session cookie sealed opened chunk key ring rotate expiry".split()
    yield b" ".join(rng.choice(words) for _ in range(800))

strategies = [("default", zlib.Z_DEFAULT_STRATEGY), ("filtered", zlib.Z_FILTERED),
              ("huffman", zlib.Z_HUFFMAN_ONLY), ("rle", zlib.Z_RLE), ("fixed", zlib.Z_FIXED)]
with open("zlib-streams.txt", "w") as out:
    out.write("# level strategy length sha256(input) base64(raw DEFLATE of input by zlib %s); made by zlib.py\n" % zlib.ZLIB_VERSION)
    for src in inputs():
        for level in (0, 1, 2, 4, 6, 9):
            for name, strategy in strategies:
                c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
                z = c.compress(src) + c.flush()
                out.write("%d %s %d %s %s\n" % (level, name, len(src), hashlib.sha256(src).hexdigest(), base64.b64encode(z).decode()))
