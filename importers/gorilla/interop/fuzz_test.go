package interop

import (
	"testing"
	"time"

	"github.com/cookiesession/cookiesession/importers/gorilla"
	"github.com/cookiesession/cookiesession/importers/gorilla/internal/forge"
	"github.com/gorilla/sessions"
)

// FuzzDifferential forges cookies under the keys of a rotation, with any
// date and any serialized session, optionally with one byte of the result
// changed, and asserts that the importer decides on each as the real
// gorilla/sessions CookieStore does (see agreeGob).
func FuzzDifferential(f *testing.F) {
	keys := [][]byte{hash2, block32, hash1, block16, hash1}
	store := sessions.NewCookieStore(keys...)
	store.MaxAge(3600)
	im := newImporter(f, gorilla.Config{Name: "app", KeyPairs: pairs(keys...), MaxAge: time.Hour})
	seeds := [][]byte{
		gobBytes(f, map[interface{}]interface{}{"user": User{Name: "ada"}, "prefs": &Prefs{Size: 1}, "_flash": []interface{}{"hi"}}),
		gobBytes(f, map[interface{}]interface{}{1: "x"}),
		gobBytes(f, map[interface{}]interface{}{}),
		gobBytes(f, []string{"not a map"}),
		{},
	}
	for i, plain := range seeds {
		f.Add(int64(-60), "", plain, uint8(i), uint16(0))
		f.Add(int64(-3601), "", plain, uint8(i), uint16(7))
		f.Add(int64(0), "+", plain, uint8(i), uint16(0))
	}
	f.Fuzz(func(t *testing.T, age int64, prefix string, plain []byte, pair uint8, flip uint16) {
		// Pairs 0 (AES-256), 1 (AES-128) and 2 (signed); 3 is a key
		// nobody holds.
		hash, block := hash1, []byte(nil)
		switch pair % 4 {
		case 0:
			hash, block = hash2, block32
		case 1:
			hash, block = hash1, block16
		case 3:
			hash = []byte("a key nobody holds")
		}
		date := prefix + unixText(time.Now().Add(time.Duration(age%(1<<40))*time.Second))
		value := forge.Cookie("app", date, hash, block, iv, plain)
		if flip != 0 {
			b := []byte(value)
			b[int(flip)%len(b)] ^= byte(flip >> 8)
			value = string(b)
		}
		agreeGob(t, store, im, "app", value)
	})
}
