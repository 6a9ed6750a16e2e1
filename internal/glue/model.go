package glue

import (
	"encoding/json"
	"strings"
)

// tableOut renders a stored table version in the Table shape.
func tableOut(dbName, catalogID string, t *table, v version) map[string]any {
	out := map[string]any{}
	for k, raw := range v.Input {
		out[k] = raw
	}
	out["Name"] = strings.ToLower(str(v.Input, "Name"))
	out["DatabaseName"] = dbName
	out["CatalogId"] = catalogID
	out["CreateTime"] = secs(t.CreatedMs)
	out["UpdateTime"] = secs(v.UpdatedMs)
	out["VersionId"] = v.ID
	out["IsRegisteredWithLakeFormation"] = false
	return out
}

func databaseOut(name, catalogID string, db *database) map[string]any {
	out := map[string]any{}
	for k, raw := range db.Input {
		out[k] = raw
	}
	out["Name"] = name
	out["CatalogId"] = catalogID
	out["CreateTime"] = secs(db.CreatedMs)
	if _, ok := out["CreateTableDefaultPermissions"]; !ok {
		out["CreateTableDefaultPermissions"] = []any{}
	}
	return out
}

// nameOf reads the Name member of an input shape.
func nameOf(in map[string]json.RawMessage) *string {
	raw, ok := in["Name"]
	if !ok {
		return nil
	}
	var s *string
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	return s
}
