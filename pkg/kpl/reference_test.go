package kpl

import (
	"bytes"
	"crypto/md5"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// refDescriptor is the KPL's messages.proto (proto2) built at run time, so
// the protobuf library itself is the reference encoder and decoder.
func refDescriptor(t testing.TB) protoreflect.MessageDescriptor {
	t.Helper()
	s := proto.String
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	req := descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	u64 := descriptorpb.FieldDescriptorProto_TYPE_UINT64.Enum()
	byt := descriptorpb.FieldDescriptorProto_TYPE_BYTES.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	field := func(name string, num int32, l *descriptorpb.FieldDescriptorProto_Label, ty *descriptorpb.FieldDescriptorProto_Type, tn string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: s(name), Number: proto.Int32(num), Label: l, Type: ty}
		if tn != "" {
			f.TypeName = s(tn)
		}
		return f
	}
	fd := &descriptorpb.FileDescriptorProto{
		Name: s("messages.proto"), Package: s("kpl"), Syntax: s("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: s("Tag"), Field: []*descriptorpb.FieldDescriptorProto{
				field("key", 1, req, str, ""), field("value", 2, opt, str, "")}},
			{Name: s("Record"), Field: []*descriptorpb.FieldDescriptorProto{
				field("partition_key_index", 1, req, u64, ""), field("explicit_hash_key_index", 2, opt, u64, ""),
				field("data", 3, req, byt, ""), field("tags", 4, rep, msg, ".kpl.Tag")}},
			{Name: s("AggregatedRecord"), Field: []*descriptorpb.FieldDescriptorProto{
				field("partition_key_table", 1, rep, str, ""), field("explicit_hash_key_table", 2, rep, str, ""),
				field("records", 3, rep, msg, ".kpl.Record")}},
		},
	}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.Messages().ByName("AggregatedRecord")
}

// refDecode decodes an aggregate with the protobuf library (required fields
// checked) into user records.
func refDecode(t testing.TB, md protoreflect.MessageDescriptor, agg []byte) []Record {
	t.Helper()
	if !bytes.Equal(agg[:4], Magic) {
		t.Fatal("no magic")
	}
	body := agg[4 : len(agg)-16]
	if sum := md5.Sum(body); !bytes.Equal(sum[:], agg[len(agg)-16:]) {
		t.Fatal("bad md5")
	}
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(body, m); err != nil {
		t.Fatalf("reference unmarshal: %v", err)
	}
	pks := m.Get(md.Fields().ByName("partition_key_table")).List()
	ehks := m.Get(md.Fields().ByName("explicit_hash_key_table")).List()
	recs := m.Get(md.Fields().ByName("records")).List()
	rd := md.Fields().ByName("records").Message()
	var out []Record
	for i := 0; i < recs.Len(); i++ {
		r := recs.Get(i).Message()
		rec := Record{PartitionKey: pks.Get(int(r.Get(rd.Fields().ByName("partition_key_index")).Uint())).String(),
			Data: r.Get(rd.Fields().ByName("data")).Bytes()}
		if f := rd.Fields().ByName("explicit_hash_key_index"); r.Has(f) {
			rec.ExplicitHashKey = ehks.Get(int(r.Get(f).Uint())).String()
		}
		out = append(out, rec)
	}
	return out
}

// refEncode encodes with the protobuf library.
func refEncode(t testing.TB, md protoreflect.MessageDescriptor, recs []Record) []byte {
	m := dynamicpb.NewMessage(md)
	pkt := m.Mutable(md.Fields().ByName("partition_key_table")).List()
	ehkt := m.Mutable(md.Fields().ByName("explicit_hash_key_table")).List()
	rl := m.Mutable(md.Fields().ByName("records")).List()
	rd := md.Fields().ByName("records").Message()
	for _, r := range recs {
		rm := dynamicpb.NewMessage(rd)
		pkt.Append(protoreflect.ValueOfString(r.PartitionKey))
		rm.Set(rd.Fields().ByName("partition_key_index"), protoreflect.ValueOfUint64(uint64(pkt.Len()-1)))
		if r.ExplicitHashKey != "" {
			ehkt.Append(protoreflect.ValueOfString(r.ExplicitHashKey))
			rm.Set(rd.Fields().ByName("explicit_hash_key_index"), protoreflect.ValueOfUint64(uint64(ehkt.Len()-1)))
		}
		rm.Set(rd.Fields().ByName("data"), protoreflect.ValueOfBytes(append([]byte{}, r.Data...)))
		rl.Append(protoreflect.ValueOfMessage(rm))
	}
	body, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	return append(append(append([]byte{}, Magic...), body...), sum[:]...)
}

func sameRecords(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].PartitionKey != b[i].PartitionKey || a[i].ExplicitHashKey != b[i].ExplicitHashKey || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

// recordsFrom turns fuzz bytes into a record list (keys from a small
// alphabet so the key tables de-duplicate).
func recordsFrom(b []byte) []Record {
	var out []Record
	for len(b) > 0 {
		n := int(b[0])
		b = b[1:]
		k := n % 7
		r := Record{PartitionKey: string(rune('a' + k))}
		if n%3 == 0 {
			r.ExplicitHashKey = string(rune('0' + n%5))
		}
		if n > len(b) {
			n = len(b)
		}
		r.Data = b[:n%40*n/max(n, 1)]
		b = b[len(r.Data):]
		out = append(out, r)
	}
	return out
}

// FuzzBuilderAgainstProtobuf: what Builder writes, the protobuf library
// reads back identically, Size is exact, and what the protobuf library
// writes, Deaggregate reads back identically.
func FuzzBuilderAgainstProtobuf(f *testing.F) {
	md := refDescriptor(f)
	f.Add([]byte{3, 'x', 'y', 'z', 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(bytes.Repeat([]byte{200}, 600))
	f.Fuzz(func(t *testing.T, in []byte) {
		recs := recordsFrom(in)
		var b Builder
		for _, r := range recs {
			want := b.SizeWith(r.PartitionKey, r.ExplicitHashKey, len(r.Data))
			b.Add(r.PartitionKey, r.ExplicitHashKey, r.Data)
			if b.Size() != want {
				t.Fatalf("SizeWith %d, Size after Add %d", want, b.Size())
			}
		}
		agg := b.Bytes()
		if len(agg) != b.Size() {
			t.Fatalf("Bytes %d, Size %d", len(agg), b.Size())
		}
		if got := refDecode(t, md, agg); !sameRecords(got, recs) && len(recs) > 0 {
			t.Fatalf("reference decode differs:\n got %+v\nwant %+v", got, recs)
		}
		if len(recs) == 0 {
			return
		}
		got, ok := Deaggregate(refEncode(t, md, recs))
		if !ok || !sameRecords(got, recs) {
			t.Fatalf("Deaggregate of reference encoding: ok=%v %+v", ok, got)
		}
		pk, ehk, data := b.First()
		if pk != recs[0].PartitionKey || ehk != recs[0].ExplicitHashKey || !bytes.Equal(data, recs[0].Data) {
			t.Fatalf("First = %q %q %q", pk, ehk, data)
		}
		b.Reset()
		b.Add("k", "", []byte("v"))
		if got, ok := Deaggregate(b.Bytes()); !ok || len(got) != 1 || got[0].PartitionKey != "k" {
			t.Fatalf("after Reset: %v %+v", ok, got)
		}
	})
}

func BenchmarkBuilderAdd(b *testing.B) {
	data := bytes.Repeat([]byte("x"), 100)
	keys := []string{"user-1", "user-2", "user-3", "user-4"}
	var bl Builder
	b.SetBytes(100)
	for i := 0; b.Loop(); i++ {
		if bl.Size() > 50000 {
			_ = bl.Bytes()
			bl.Reset()
		}
		bl.Add(keys[i&3], "", data)
	}
}
