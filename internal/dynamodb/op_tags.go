package dynamodb

// TagResource, UntagResource and ListTagsOfResource manage a table's tags
// by table ARN (at most 50; keys 1–128, values 0–256 characters). An ARN
// of another account or region, or of a missing table, is a
// ResourceNotFoundException. ListTagsOfResource returns every tag in one
// page.

import (
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type tagResourceInput struct {
	ResourceArn *string  `json:"ResourceArn"`
	Tags        []tag    `json:"Tags"`
	TagKeys     []string `json:"TagKeys"`
	NextToken   *string  `json:"NextToken"`
}

func init() {
	register("TagResource", (*Service).tagResource)
	register("UntagResource", (*Service).untagResource)
	register("ListTagsOfResource", (*Service).listTagsOfResource)
}

func (s *Service) tableByARN(c *call, arn *string) (*table, error) {
	if arn == nil {
		return nil, invalid("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(*arn, "arn:") || !strings.Contains(*arn, ":table/") {
		return nil, invalid("Invalid TableArn: Invalid ResourceArn provided as input %s", *arn)
	}
	a, r, n := tableName(c, arn)
	t := s.tables[tableKey(a, r, n)]
	if t == nil {
		return nil, notFoundMsg("Requested resource not found: ResourcArn: " + *arn + " not found")
	}
	return t, nil
}

func (s *Service) tagResource(c *call) (any, error) {
	var in tagResourceInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tableByARN(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	m := t.meta
	merged := map[string]string{}
	var order []string
	for _, tg := range m.Tags {
		merged[*tg.Key] = *tg.Value
		order = append(order, *tg.Key)
	}
	for _, tg := range in.Tags {
		if _, ok := merged[*tg.Key]; !ok {
			order = append(order, *tg.Key)
		}
		merged[*tg.Key] = *tg.Value
	}
	if len(order) > 50 {
		return nil, &awserr.Error{Type: tLimitExceeded, Status: 400, Message: "The number of tags exceeds the limit of 50"}
	}
	m.Tags = nil
	for _, k := range order {
		k, v := k, merged[k]
		m.Tags = append(m.Tags, tag{Key: &k, Value: &v})
	}
	return struct{}{}, s.commitLocked(c, logRec{Op: "table", Table: &m})
}

func (s *Service) untagResource(c *call) (any, error) {
	var in tagResourceInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tableByARN(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	m := t.meta
	m.Tags = nil
	for _, tg := range t.meta.Tags {
		if !drop[*tg.Key] {
			m.Tags = append(m.Tags, tg)
		}
	}
	return struct{}{}, s.commitLocked(c, logRec{Op: "table", Table: &m})
}

func (s *Service) listTagsOfResource(c *call) (any, error) {
	var in tagResourceInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.tableByARN(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags := t.meta.Tags
	if tags == nil {
		tags = []tag{}
	}
	return map[string]any{"Tags": tags}, nil
}
