package sql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // unquoted identifier or keyword; Val is upper-cased
	tQIdent         // "quoted" identifier; Val is as written
	tString         // 'string literal'; Val is the unescaped text
	tNumber         // numeric literal; Val is the text
	tOp             // punctuation and operators; Val is the symbol
)

type token struct {
	kind      tokKind
	val       string
	line, col int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "<EOF>"
	case tQIdent:
		return `"` + t.val + `"`
	case tString:
		return "'" + t.val + "'"
	}
	return t.val
}

// lex splits src into tokens. It fails on an unterminated string, quoted
// identifier or comment, and on a character no token starts with.
func lex(src string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n && i < len(src); k++ {
			if src[i] == '\n' {
				line++
				col = 1
			} else if src[i] < 0x80 || src[i] >= 0xC0 {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			adv(1)
			continue
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			l, cl := line, col
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errorf(l, cl, "Lexical error: unterminated comment")
			}
			adv(end + 4)
			continue
		}
		l, cl := line, col
		switch {
		case c == '\'' || ((c == 'u' || c == 'U') && strings.HasPrefix(src[i+1:], "&'")):
			unicodeEsc := c != '\''
			if unicodeEsc {
				adv(2)
			}
			adv(1)
			var sb strings.Builder
			closed := false
			for i < len(src) {
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						sb.WriteByte('\'')
						adv(2)
						continue
					}
					adv(1)
					closed = true
					break
				}
				sb.WriteByte(src[i])
				adv(1)
			}
			if !closed {
				return nil, errorf(l, cl, "Lexical error: unterminated string literal")
			}
			s := sb.String()
			if unicodeEsc {
				s = unescapeUnicode(s)
			}
			toks = append(toks, token{tString, s, l, cl})
		case c == '"':
			adv(1)
			var sb strings.Builder
			closed := false
			for i < len(src) {
				if src[i] == '"' {
					if i+1 < len(src) && src[i+1] == '"' {
						sb.WriteByte('"')
						adv(2)
						continue
					}
					adv(1)
					closed = true
					break
				}
				sb.WriteByte(src[i])
				adv(1)
			}
			if !closed {
				return nil, errorf(l, cl, "Lexical error: unterminated quoted identifier")
			}
			if sb.Len() == 0 {
				return nil, errorf(l, cl, "Lexical error: empty quoted identifier")
			}
			toks = append(toks, token{tQIdent, sb.String(), l, cl})
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9'):
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j < len(src) && src[j] == '.' {
				j++
				for j < len(src) && src[j] >= '0' && src[j] <= '9' {
					j++
				}
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
					j = k
				}
			}
			toks = append(toks, token{tNumber, src[i:j], l, cl})
			adv(j - i)
		case c == '_' || c == '$' || c < 0x80 && unicode.IsLetter(rune(c)) || c >= 0x80:
			j := i
			for j < len(src) {
				r, n := utf8.DecodeRuneInString(src[j:])
				if r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r) {
					j += n
					continue
				}
				break
			}
			if j == i {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, errorf(l, cl, "Lexical error: unexpected character %q", r)
			}
			toks = append(toks, token{tIdent, strings.ToUpper(src[i:j]), l, cl})
			adv(j - i)
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "||", "<>", "!=", "<=", ">=":
				toks = append(toks, token{tOp, two, l, cl})
				adv(2)
				continue
			}
			switch c {
			case '(', ')', ',', '.', ';', '+', '-', '*', '/', '=', '<', '>', '%', '[', ']':
				toks = append(toks, token{tOp, string(c), l, cl})
				adv(1)
			default:
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, errorf(l, cl, "Lexical error: unexpected character %q", r)
			}
		}
	}
	toks = append(toks, token{tEOF, "", line, col})
	return toks, nil
}

// unescapeUnicode decodes the \XXXX escapes of a U&'…' literal.
func unescapeUnicode(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 < len(s) {
			var r rune
			ok := true
			for _, h := range s[i+1 : i+5] {
				r <<= 4
				switch {
				case h >= '0' && h <= '9':
					r |= h - '0'
				case h >= 'a' && h <= 'f':
					r |= h - 'a' + 10
				case h >= 'A' && h <= 'F':
					r |= h - 'A' + 10
				default:
					ok = false
				}
			}
			if ok {
				sb.WriteRune(r)
				i += 4
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}
