package benchmarks

import (
	"github.com/gorilla/securecookie"
)

// gob is usually given typed values, not maps: securecookie-gob-typed
// stores the very session of Values as a struct, its cart as a slice of
// structs, so that gob sends each type's description once and no interface
// values. securecookie-gob (maps, as the other peers get them) and this one
// bound the ratio gob users see.

// typedSession is the session of Values as structs.
type typedSession struct {
	Visits, UserID, LastSeen                   int
	User, CSRF, Theme, Email, ReturnTo, Locale string
	Admin                                      bool
	Cart                                       []cartItem
}

type cartItem struct {
	SKU, Name  string
	Qty, Price int
}

// typedOf converts the map of Values into a typedSession (part of the
// measured seal, as an application builds its struct).
func typedOf(v map[string]any) typedSession {
	str := func(k string) string { s, _ := v[k].(string); return s }
	s := typedSession{
		Visits: counterOf(v[CounterKey]), UserID: counterOf(v["user_id"]), LastSeen: counterOf(v["last_seen"]),
		User: str("user"), CSRF: str("csrf"), Theme: str("theme"), Email: str("email"), ReturnTo: str("return_to"),
		Locale: str("locale"),
	}
	s.Admin, _ = v["admin"].(bool)
	cart, _ := v["cart"].([]any)
	for _, x := range cart {
		item := x.(map[string]any)
		s.Cart = append(s.Cart, cartItem{SKU: item["sku"].(string), Name: item["name"].(string),
			Qty: counterOf(item["qty"]), Price: counterOf(item["price"])})
	}
	return s
}

// securecookieTypedPeer is gorilla/securecookie with gob of a typedSession,
// configured as securecookiePeer.
func securecookieTypedPeer() peer {
	sc := securecookie.New(Secret32("hash"), Secret32("block")).SetSerializer(securecookie.GobEncoder{}).MaxLength(1 << 16)
	open := func(cookie string) (typedSession, error) {
		var s typedSession
		return s, sc.Decode(CookieName, cookie, &s)
	}
	return peer{
		impl: "securecookie-gob-typed",
		seal: func(v map[string]any) (string, error) { return sc.Encode(CookieName, typedOf(v)) },
		open: func(cookie string) error { _, err := open(cookie); return err },
		request: func(cookie string) (string, error) {
			s, err := open(cookie)
			if err != nil {
				return "", err
			}
			s.Visits++
			return sc.Encode(CookieName, s)
		},
		counter: func(cookie string) (int, error) {
			s, err := open(cookie)
			return s.Visits, err
		},
	}
}
