package analytics

import "github.com/eddy-streams/eddy/internal/awserr"

// mergeTags adds or replaces tags; more than 50 user tags is
// TooManyTagsException.
func mergeTags(cur []tagPair, add []Tag) ([]tagPair, error) {
	out := append([]tagPair(nil), cur...)
	for _, t := range add {
		if t.Key == nil {
			continue
		}
		val := ""
		if t.Value != nil {
			val = *t.Value
		}
		found := false
		for i := range out {
			if out[i].Key == *t.Key {
				out[i].Value = val
				found = true
				break
			}
		}
		if !found {
			out = append(out, tagPair{Key: *t.Key, Value: val})
		}
	}
	if len(out) > maxUserTags {
		return nil, awserr.New(TTooManyTags, 400, "Application can't have more than %d tags.", maxUserTags)
	}
	return out, nil
}

func tagsWire(tags []tagPair) []Tag {
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		k, v := t.Key, t.Value
		out = append(out, Tag{Key: &k, Value: &v})
	}
	return out
}
