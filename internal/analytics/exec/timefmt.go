package exec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Java SimpleDateFormat patterns (the datetime conversion functions take
// them): letters y M d H h k K m s S a E z Z X and 'quoted text'.

type jtok struct {
	letter byte // 0 for literal
	n      int
	lit    string
}

func javaTokens(p string) []jtok {
	var toks []jtok
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			var sb strings.Builder
			for j < len(p) {
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						sb.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				sb.WriteByte(p[j])
				j++
			}
			if i+1 < len(p) && p[i+1] == '\'' {
				sb.WriteByte('\'')
				j = i + 1
			}
			toks = append(toks, jtok{lit: sb.String()})
			i = j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			toks = append(toks, jtok{letter: c, n: j - i})
			i = j
		default:
			toks = append(toks, jtok{lit: string(c)})
			i++
		}
	}
	return toks
}

func pad(n int64, w int) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < w {
		s = "0" + s
	}
	return s
}

// formatJava formats ms since epoch (UTC) with a SimpleDateFormat pattern.
func formatJava(ms int64, pattern string) string {
	t := time.UnixMilli(ms).UTC()
	var sb strings.Builder
	for _, tk := range javaTokens(pattern) {
		if tk.letter == 0 {
			sb.WriteString(tk.lit)
			continue
		}
		switch tk.letter {
		case 'y', 'Y', 'u':
			if tk.n == 2 {
				sb.WriteString(pad(int64(t.Year()%100), 2))
			} else {
				sb.WriteString(pad(int64(t.Year()), tk.n))
			}
		case 'M', 'L':
			switch {
			case tk.n >= 4:
				sb.WriteString(t.Month().String())
			case tk.n == 3:
				sb.WriteString(t.Month().String()[:3])
			default:
				sb.WriteString(pad(int64(t.Month()), tk.n))
			}
		case 'd':
			sb.WriteString(pad(int64(t.Day()), tk.n))
		case 'D':
			sb.WriteString(pad(int64(t.YearDay()), tk.n))
		case 'H':
			sb.WriteString(pad(int64(t.Hour()), tk.n))
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			sb.WriteString(pad(int64(h), tk.n))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			sb.WriteString(pad(int64(h), tk.n))
		case 'K':
			sb.WriteString(pad(int64(t.Hour()%12), tk.n))
		case 'm':
			sb.WriteString(pad(int64(t.Minute()), tk.n))
		case 's':
			sb.WriteString(pad(int64(t.Second()), tk.n))
		case 'S':
			sb.WriteString(pad(int64(t.Nanosecond()/1e6), tk.n))
		case 'a':
			if t.Hour() < 12 {
				sb.WriteString("AM")
			} else {
				sb.WriteString("PM")
			}
		case 'E':
			if tk.n >= 4 {
				sb.WriteString(t.Weekday().String())
			} else {
				sb.WriteString(t.Weekday().String()[:3])
			}
		case 'z':
			sb.WriteString("UTC")
		case 'Z':
			sb.WriteString("+0000")
		case 'X':
			sb.WriteString("Z")
		default:
			sb.WriteString(strings.Repeat(string(tk.letter), tk.n))
		}
	}
	return sb.String()
}

var monthNames = []string{"JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER"}

// parseJava parses s with a SimpleDateFormat pattern into ms since epoch
// (UTC unless the text carries a zone offset).
func parseJava(s, pattern string) (int64, error) {
	toks := javaTokens(pattern)
	year, month, day := 1970, 1, 1
	hour, minute, sec, milli := 0, 0, 0, 0
	pm, hasAmPm := false, false
	offset := 0
	i := 0
	num := func(maxw int, next *jtok) (int, error) {
		j := i
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		limit := len(s)
		// adjacent numeric fields (yyyyMMdd) take exactly their width
		if next != nil && next.letter != 0 && maxw > 0 {
			limit = min(len(s), i+maxw)
		}
		for j < limit && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("expected a number at %d", i)
		}
		v, err := strconv.Atoi(s[i:j])
		i = j
		return v, err
	}
	for k, tk := range toks {
		var next *jtok
		if k+1 < len(toks) {
			next = &toks[k+1]
		}
		if tk.letter == 0 {
			if !strings.HasPrefix(s[i:], tk.lit) {
				return 0, fmt.Errorf("unparseable date %q at %d", s, i)
			}
			i += len(tk.lit)
			continue
		}
		var err error
		switch tk.letter {
		case 'y', 'Y', 'u':
			year, err = num(tk.n, next)
			if tk.n == 2 && err == nil {
				year += 2000
			}
		case 'M', 'L':
			if tk.n >= 3 {
				rest := strings.ToUpper(s[i:])
				found := false
				for m, name := range monthNames {
					if strings.HasPrefix(rest, name) && tk.n >= 4 {
						month, i, found = m+1, i+len(name), true
						break
					}
					if strings.HasPrefix(rest, name[:3]) {
						month, i, found = m+1, i+3, true
						break
					}
				}
				if !found {
					err = fmt.Errorf("bad month in %q", s)
				}
			} else {
				month, err = num(tk.n, next)
			}
		case 'd':
			day, err = num(tk.n, next)
		case 'H', 'k':
			hour, err = num(tk.n, next)
		case 'h', 'K':
			hour, err = num(tk.n, next)
			hasAmPm = true
		case 'm':
			minute, err = num(tk.n, next)
		case 's':
			sec, err = num(tk.n, next)
		case 'S':
			start := i
			var v int
			v, err = num(0, nil)
			digits := i - start
			for ; digits > 3; digits-- {
				v /= 10
			}
			for ; digits < 3 && tk.n < 3; digits++ {
				v *= 10
			}
			milli = v
		case 'a':
			switch {
			case strings.HasPrefix(strings.ToUpper(s[i:]), "AM"):
				i += 2
			case strings.HasPrefix(strings.ToUpper(s[i:]), "PM"):
				i += 2
				pm = true
			default:
				err = fmt.Errorf("expected AM/PM in %q", s)
			}
		case 'E':
			j := i
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			i = j
		case 'z', 'Z', 'X':
			switch {
			case strings.HasPrefix(s[i:], "Z"):
				i++
			case strings.HasPrefix(s[i:], "UTC") || strings.HasPrefix(s[i:], "GMT"):
				i += 3
			case i < len(s) && (s[i] == '+' || s[i] == '-'):
				sign := 1
				if s[i] == '-' {
					sign = -1
				}
				j := i + 1
				digits := ""
				for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ':') {
					if s[j] != ':' {
						digits += string(s[j])
					}
					j++
				}
				if len(digits) != 4 && len(digits) != 2 {
					err = fmt.Errorf("bad zone in %q", s)
					break
				}
				hh, _ := strconv.Atoi(digits[:2])
				mm := 0
				if len(digits) == 4 {
					mm, _ = strconv.Atoi(digits[2:])
				}
				offset = sign * (hh*3600 + mm*60)
				i = j
			default:
				err = fmt.Errorf("bad zone in %q", s)
			}
		default:
			err = fmt.Errorf("unsupported pattern letter %q", tk.letter)
		}
		if err != nil {
			return 0, err
		}
	}
	if i != len(s) {
		return 0, fmt.Errorf("unparseable date %q: trailing text", s)
	}
	if hasAmPm {
		hour %= 12
		if pm {
			hour += 12
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || sec > 60 {
		return 0, fmt.Errorf("unparseable date %q: field out of range", s)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, milli*1e6, time.UTC)
	return t.UnixMilli() - int64(offset)*1000, nil
}
