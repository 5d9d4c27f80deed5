package bft

import (
	"context"
	"log/slog"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// slogLogger writes CometBFT's log lines to the node's slog logger.
// CometBFT's info lines are many (a dozen per block): they are logged at
// debug level, its errors and warnings as they are.
type slogLogger struct{ l *slog.Logger }

func newLogger(l *slog.Logger) cmtlog.Logger { return slogLogger{l} }

func (s slogLogger) Debug(msg string, kv ...any) {
	s.l.Log(context.Background(), slog.LevelDebug-4, msg, kv...)
}
func (s slogLogger) Info(msg string, kv ...any)  { s.l.Debug(msg, kv...) }
func (s slogLogger) Warn(msg string, kv ...any)  { s.l.Warn(msg, kv...) }
func (s slogLogger) Error(msg string, kv ...any) { s.l.Error(msg, kv...) }
func (s slogLogger) With(kv ...any) cmtlog.Logger {
	return slogLogger{s.l.With(kv...)}
}
