package gorilla

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
)

// deserialize is securecookie's step 6 into what gorilla/sessions decodes
// into: a map[interface{}]interface{} with gob. With JSON, where sessions
// cannot decode at all, it is a map[string]any (numbers kept as
// json.Number), the shape of every JSON object.
func (d *Importer) deserialize(b []byte) (any, error) {
	if d.serializer == JSON {
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

// values converts a deserialized session to JSON values.
func (d *Importer) values(m any) (map[string]json.RawMessage, error) {
	switch m := m.(type) {
	case map[string]any:
		out := make(map[string]json.RawMessage, len(m))
		for k, v := range m {
			raw, err := toJSON(k, v)
			if err != nil {
				return nil, err
			}
			out[k] = raw
		}
		return out, nil
	case map[interface{}]interface{}:
		out := make(map[string]json.RawMessage, len(m))
		for k, v := range m {
			name, ok := k.(string)
			if !ok {
				return nil, invalid(fmt.Sprintf("a key of type %T is not a string", k))
			}
			raw, err := toJSON(name, v)
			if err != nil {
				return nil, err
			}
			out[name] = raw
		}
		return out, nil
	}
	panic(fmt.Sprintf("gorilla: values of %T", m))
}

func toJSON(name string, v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, invalid(fmt.Sprintf("value %q of type %T: %v", name, v, err))
	}
	return raw, nil
}
