package gorilla

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"

	"github.com/cookiesession/cookiesession"
)

// deserialize is securecookie's step 6 into what gorilla/sessions decodes
// into: a map[interface{}]interface{} with gob. With JSON, where sessions
// cannot decode at all, it is a map[string]any (numbers kept as
// json.Number), the shape of every JSON object.
func (im *Importer) deserialize(b []byte) (any, error) {
	if im.serializer == JSON {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, invalid("the value is not a JSON object")
		}
		return m, nil
	}
	m := make(map[interface{}]interface{})
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&m); err != nil {
		// gob's text names an unregistered type, which is what the
		// application's logs need; it carries no value.
		return nil, invalid("the value does not decode as a gob session: " + err.Error())
	}
	return m, nil
}

// values converts a deserialized session to JSON values, with
// cookiesession.MarshalValues (which refuses what encoding/json refuses,
// naming the key and the type).
func values(m any) (map[string]json.RawMessage, error) {
	if m, ok := m.(map[string]any); ok {
		return cookiesession.MarshalValues(m)
	}
	gm := m.(map[interface{}]interface{})
	named := make(map[string]any, len(gm))
	for k, v := range gm {
		name, ok := k.(string)
		if !ok {
			return nil, invalid(fmt.Sprintf("a key of type %T is not a string", k))
		}
		named[name] = v
	}
	return cookiesession.MarshalValues(named)
}
