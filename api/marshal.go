package api

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// restMarshaler is protojson with proto field names and zero values
// present (the field names of docs/contracts.md), except that 64-bit integers are JSON
// numbers, not protojson's strings: the REST answers are then the very
// documents of metrics-daily and ssh-alerts (whose counts are numbers), and
// no count comes near 2^53, past which a JavaScript client would round.
type restMarshaler struct {
	runtime.JSONPb
}

func newRESTMarshaler() *restMarshaler {
	return &restMarshaler{runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
	}}
}

// Marshal renders a message (or the gateway's stream wrapper, a map of
// messages) with 64-bit integers as numbers.
func (m *restMarshaler) Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case proto.Message:
		return m.message(v)
	case map[string]any:
		out := make(map[string]json.RawMessage, len(v))
		for k, x := range v {
			b, err := m.Marshal(x)
			if err != nil {
				return nil, err
			}
			out[k] = b
		}
		return json.Marshal(out)
	}
	return m.JSONPb.Marshal(v)
}

func (m *restMarshaler) message(msg proto.Message) ([]byte, error) {
	b, err := m.MarshalOptions.Marshal(msg)
	if err != nil {
		return nil, err
	}
	md := msg.ProtoReflect().Descriptor()
	if !has64(md, 0) {
		return b, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("rest marshal %s: %w", md.FullName(), err)
	}
	numbers(md, tree)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return nil, fmt.Errorf("rest marshal %s: %w", md.FullName(), err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func is64(fd protoreflect.FieldDescriptor) bool {
	switch fd.Kind() {
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return true
	}
	return false
}

// has64 reports whether md holds a 64-bit integer field at any depth.
func has64(md protoreflect.MessageDescriptor, depth int) bool {
	if depth > 8 {
		return false
	}
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		if is64(fd) || (fd.Message() != nil && !fd.IsMap() && has64(fd.Message(), depth+1)) {
			return true
		}
	}
	return false
}

// numbers turns the 64-bit integer fields of tree (protojson of md) into
// JSON numbers.
func numbers(md protoreflect.MessageDescriptor, tree map[string]any) {
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		v, ok := tree[string(fd.Name())]
		if !ok || fd.IsMap() {
			continue
		}
		switch {
		case is64(fd):
			if fd.IsList() {
				if l, ok := v.([]any); ok {
					for j := range l {
						l[j] = number(l[j])
					}
				}
			} else {
				tree[string(fd.Name())] = number(v)
			}
		case fd.Message() != nil:
			if fd.IsList() {
				if l, ok := v.([]any); ok {
					for _, x := range l {
						if sub, ok := x.(map[string]any); ok {
							numbers(fd.Message(), sub)
						}
					}
				}
			} else if sub, ok := v.(map[string]any); ok {
				numbers(fd.Message(), sub)
			}
		}
	}
}

func number(v any) any {
	if s, ok := v.(string); ok {
		return json.Number(s)
	}
	return v
}
