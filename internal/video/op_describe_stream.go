package video

// DescribeStream: StreamInfo for a stream given by StreamName or StreamARN
// (one is required: InvalidArgumentException). Status is ACTIVE (Eddy has
// no CREATING/UPDATING window); CreationTime is epoch seconds.

type describeStreamInput struct {
	StreamName string
	StreamARN  string
}

type streamInfo struct {
	DeviceName           string `json:",omitempty"`
	StreamName           string
	StreamARN            string
	MediaType            string `json:",omitempty"`
	KmsKeyId             string
	Version              string
	Status               string
	CreationTime         float64
	DataRetentionInHours int64
}

func (st *stream) info() streamInfo {
	return streamInfo{
		DeviceName: st.DeviceName, StreamName: st.Name, StreamARN: st.ARN, MediaType: st.MediaType,
		KmsKeyId: st.KmsKeyID, Version: st.Version, Status: "ACTIVE",
		CreationTime: epoch(st.Created.UnixMilli()), DataRetentionInHours: st.RetentionHrs,
	}
}

func opDescribeStream(s *Service, c *call) (any, error) {
	var in describeStreamInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.lookupLocked(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	return map[string]any{"StreamInfo": st.info()}, nil
}
