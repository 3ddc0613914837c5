// open.mjs opens a cookiesession cookie with the stock `jose` library and the
// content keys printed by `cookiesession derive`, without the Go package:
//
//   node open.mjs DERIVED_JWKS_FILE [COOKIE_FILE]
//
// The cookie is read from COOKIE_FILE, or stdin when it is absent or "-": a
// bare sealed value, or the NAME=VALUE lines `cookiesession seal` prints (the
// chunks, in order). It prints the payload JSON ({"sid","iat","lat","exp",
// "v"}) and exits 1 with a one-line reason when the cookie does not open or
// has expired.
import { readFileSync } from 'node:fs'
import { compactDecrypt, compactVerify, decodeProtectedHeader, importJWK } from 'jose'

function fail(msg) {
  process.stderr.write(`open.mjs: ${msg}\n`)
  process.exit(1)
}

// join returns the sealed value of the given cookie text: the values of its
// NAME=VALUE parts, in order, without the "N~" chunk count of the first.
function join(text) {
  const parts = text.split(/[\n;]/).map((p) => p.trim()).filter((p) => p !== '')
  if (parts.length === 0) fail('no cookie value')
  const values = parts.map((p) => (p.includes('=') ? p.slice(p.indexOf('=') + 1) : p))
  const m = /^([2-9])~/.exec(values[0])
  if (!m) {
    if (values.length !== 1) fail(`${values.length} values but no chunk count`)
    return values[0]
  }
  if (Number(m[1]) !== values.length) fail(`chunk count ${m[1]}, got ${values.length} chunks`)
  values[0] = values[0].slice(2)
  return values.join('')
}

async function main() {
  const [jwksFile, cookieFile = '-'] = process.argv.slice(2)
  if (!jwksFile) fail('usage: node open.mjs DERIVED_JWKS_FILE [COOKIE_FILE]')
  const jwks = JSON.parse(readFileSync(jwksFile, 'utf8'))
  const sealed = join(readFileSync(cookieFile === '-' ? 0 : cookieFile, 'utf8'))

  // The key by the header's kid: no trial over every key.
  const { kid } = decodeProtectedHeader(sealed)
  const jwk = (jwks.keys ?? []).find((k) => k.kid === kid)
  if (!jwk) fail(`unknown key id ${JSON.stringify(kid)}`)

  let plaintext
  switch (sealed.split('.').length) {
    case 5: { // JWE: dir + A256GCM only, inflation capped as the Go package does
      const key = await importJWK(jwk, 'dir')
      ;({ plaintext } = await compactDecrypt(sealed, key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
        maxDecompressedLength: 250000, // MaxPlaintextBytes
      }))
      break
    }
    case 3: { // JWS: HS256 only
      const key = await importJWK(jwk, 'HS256')
      ;({ payload: plaintext } = await compactVerify(sealed, key, { algorithms: ['HS256'] }))
      break
    }
    default:
      fail('not a JWE or JWS compact serialization')
  }
  const payload = JSON.parse(new TextDecoder().decode(plaintext))
  if (!(Number.isInteger(payload.exp) && Date.now() / 1000 < payload.exp)) fail('expired')
  process.stdout.write(JSON.stringify(payload) + '\n')
}

main().catch((err) => fail(`${err.code ?? err.name}: ${err.message}`))
