package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Failures on demand: the next calls of a method answered with an error, as Telegram's.

// FailGetMe answers the next n getMe calls with the error code and description, such as 502
// "Bad Gateway" (Telegram unreachable) or 401 "Unauthorized" (a revoked token); code 0 cuts
// the connection without an answer, as Break does.
func (s *Server) FailGetMe(n, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures["getMe "] = append(s.failures["getMe "], failure{code: code, description: description})
	}
}

// Fail429 answers the next n sendMessage calls for the chat with 429 Too Many Requests and
// retry_after seconds.
func (s *Server) Fail429(chatID int64, n, retryAfter int) {
	s.fail("sendMessage", chatID, n, tooMany(retryAfter))
}

// FailSend answers the next n sendMessage calls for the chat with the error code and
// description, such as 403 "Forbidden: bot was blocked by the user" or 502 "Bad Gateway".
func (s *Server) FailSend(chatID int64, n, code int, description string) {
	s.fail("sendMessage", chatID, n, failure{code: code, description: description})
}

// FailCopy answers the next n copyMessage calls into the chat with the error code and
// description, such as 400 "Bad Request: message to copy not found".
func (s *Server) FailCopy(chatID int64, n, code int, description string) {
	s.fail("copyMessage", chatID, n, failure{code: code, description: description})
}

// FailEdit answers the next n editMessageText calls for the chat with the error code and
// description, such as 400 "Bad Request: message can't be edited".
func (s *Server) FailEdit(chatID int64, n, code int, description string) {
	s.fail("editMessageText", chatID, n, failure{code: code, description: description})
}

// Fail429Delete answers the next n deleteMessages calls for the chat with 429 Too Many
// Requests and retry_after seconds.
func (s *Server) Fail429Delete(chatID int64, n, retryAfter int) {
	s.fail("deleteMessages", chatID, n, tooMany(retryAfter))
}

// FailDelete answers the next n deleteMessages calls for the chat with the error code and
// description, such as 400 "Bad Request: message can't be deleted" or 502 "Bad Gateway".
func (s *Server) FailDelete(chatID int64, n, code int, description string) {
	s.fail("deleteMessages", chatID, n, failure{code: code, description: description})
}

// FailSurface answers the next n calls of method (setMyDescription, setMyShortDescription,
// setMyCommands or deleteMyCommands) for the language_code lang ("" for none) with the error
// code and description, such as 400 "Bad Request: ..." or 404 "Not Found" of a server that
// predates the method.
func (s *Server) FailSurface(method, lang string, n, code int, description string) {
	s.failLang(method, lang, n, failure{code: code, description: description})
}

// Fail429Surface answers the next n calls of method for the language_code lang ("" for none)
// with 429 Too Many Requests and retry_after seconds.
func (s *Server) Fail429Surface(method, lang string, n, retryAfter int) {
	s.failLang(method, lang, n, tooMany(retryAfter))
}

func (s *Server) failLang(method, lang string, n int, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[method+" lang:"+lang] = append(s.failures[method+" lang:"+lang], f)
	}
}

// surface answers a call that sets what Telegram shows of the bot: a 400 for a setMyCommands
// without a JSON array of commands, else the failure queued, if any. The caller does not hold
// s.mu.
func (s *Server) surface(method string, params map[string]string) failure {
	var commands []tgbotapi.BotCommand
	if method == "setMyCommands" {
		if err := json.Unmarshal([]byte(params["commands"]), &commands); err != nil || commands == nil {
			return failure{http.StatusBadRequest, "Bad Request: can't parse commands JSON array", 0}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, _ := s.failure(method, "lang:"+params["language_code"])
	return f
}

func tooMany(retryAfter int) failure {
	return failure{http.StatusTooManyRequests, fmt.Sprintf("Too Many Requests: retry after %d", retryAfter), retryAfter}
}

func (s *Server) fail(method string, chatID int64, n int, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := method + " " + strconv.FormatInt(chatID, 10)
	for range n {
		s.failures[key] = append(s.failures[key], f)
	}
}

// failure takes the next failure queued for the method and chat; ok is false if there is none.
// The caller holds s.mu.
func (s *Server) failure(method, chat string) (f failure, ok bool) {
	key := method + " " + chat
	fs := s.failures[key]
	if len(fs) == 0 {
		return failure{}, false
	}
	s.failures[key] = fs[1:]
	return fs[0], true
}
