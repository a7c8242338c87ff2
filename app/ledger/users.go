package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clawgate/clawgate/app/store"
)

// UserRequest is LiteLLM's NewUserRequest / UpdateUserRequest as far as Clawgate acts on it.
type UserRequest struct {
	UserID    *string  `json:"user_id"`
	UserAlias *string  `json:"user_alias"`
	UserEmail *string  `json:"user_email"`
	UserRole  *string  `json:"user_role"`
	Teams     []string `json:"teams"`
	// AutoCreateKey (default true) makes /user/new also generate a key for the user, as LiteLLM does.
	AutoCreateKey *bool   `json:"auto_create_key"`
	KeyAlias      *string `json:"key_alias"`
	LimitsRequest
}

// userRoles are LiteLLM's user roles.
var userRoles = []string{"proxy_admin", "proxy_admin_viewer", "org_admin", "internal_user", "internal_user_viewer", "team", "customer"}

func (q *UserRequest) check() error {
	if q.UserRole != nil {
		r := strings.TrimSpace(*q.UserRole)
		ok := false
		for _, x := range userRoles {
			ok = ok || r == x
		}
		if !ok {
			return invalid("Invalid user_role %q: one of %s.", r, strings.Join(userRoles, ", "))
		}
	}
	return nil
}

func (q *UserRequest) applyUser(u *store.User) {
	if q.UserAlias != nil {
		u.UserAlias = strings.TrimSpace(*q.UserAlias)
	}
	if q.UserEmail != nil {
		u.UserEmail = strings.TrimSpace(*q.UserEmail)
	}
	if q.UserRole != nil {
		u.UserRole = strings.TrimSpace(*q.UserRole)
	}
}

func userMissing(id string) error {
	return missing(fmt.Sprintf("User=%s not found. Create the user via `/user/new`.", id))
}

// NewUser creates an internal user (its id generated unless set) in q.Teams, and unless
// q.AutoCreateKey is false, a key owned by it, whose secret it returns ("" otherwise).
func (l *Ledger) NewUser(ctx context.Context, q UserRequest) (store.User, string, store.Key, error) {
	d, err := q.validate()
	if err != nil {
		return store.User{}, "", store.Key{}, err
	}
	if err := q.check(); err != nil {
		return store.User{}, "", store.Key{}, err
	}
	u := store.User{UserID: newUUID(), UserRole: "internal_user", Limits: l.newLimits(&q.LimitsRequest, d)}
	if q.UserID != nil && strings.TrimSpace(*q.UserID) != "" {
		u.UserID = strings.TrimSpace(*q.UserID)
	}
	q.applyUser(&u)
	for _, t := range q.Teams {
		if _, ok := l.team(t); !ok {
			return store.User{}, "", store.Key{}, teamMissing(t)
		}
	}
	if err := l.st.CreateUser(ctx, u, q.Teams); err != nil {
		switch {
		case errors.Is(err, store.ErrExists):
			return store.User{}, "", store.Key{}, invalid("User with id=%s already exists.", u.UserID)
		case errors.Is(err, store.ErrNotFound):
			return store.User{}, "", store.Key{}, invalid("%v", err)
		}
		return store.User{}, "", store.Key{}, fmt.Errorf("could not create the user: %w", err)
	}
	l.putUser(u)
	l.bl.SetBudget(userBudget(u.UserID), u.MaxBudget, 0, u.BudgetResetAt, d)
	l.alert.Forget(userBudget(u.UserID))
	if q.AutoCreateKey != nil && !*q.AutoCreateKey {
		return u, "", store.Key{}, nil
	}
	key, k, err := l.GenerateKey(ctx, KeyRequest{UserID: &u.UserID, KeyAlias: q.KeyAlias})
	if err != nil {
		return u, "", store.Key{}, fmt.Errorf("the user was created, its key was not: %w", err)
	}
	return u, key, k, nil
}

// UserInfo returns the user and the ids of its teams.
func (l *Ledger) UserInfo(ctx context.Context, id string) (store.User, []string, error) {
	u, ok := l.user(strings.TrimSpace(id))
	if !ok {
		return store.User{}, nil, userMissing(id)
	}
	teams, err := l.st.UserTeams(ctx, u.UserID)
	if err != nil {
		return store.User{}, nil, err
	}
	return u, teams, nil
}

// Users lists one page of users (role filters when set) and how many there are.
func (l *Ledger) Users(ctx context.Context, role string, page, size int) ([]store.User, int, error) {
	us, total, err := l.st.ListUsers(ctx, role, page, size)
	if err != nil {
		return nil, 0, err
	}
	for i, u := range us {
		if m, ok := l.user(u.UserID); ok {
			us[i] = m
		}
	}
	return us, total, nil
}

// UpdateUser changes the fields of q that are set on the user q.UserID.
func (l *Ledger) UpdateUser(ctx context.Context, q UserRequest) (store.User, error) {
	if q.UserID == nil || strings.TrimSpace(*q.UserID) == "" {
		return store.User{}, invalid("user_id is required.")
	}
	d, err := q.validate()
	if err != nil {
		return store.User{}, err
	}
	if err := q.check(); err != nil {
		return store.User{}, err
	}
	old, ok := l.user(strings.TrimSpace(*q.UserID))
	if !ok {
		return store.User{}, userMissing(*q.UserID)
	}
	u := old
	q.apply(&u.Limits)
	if q.BudgetDuration != nil && d == nil {
		u.BudgetDuration, u.BudgetResetAt = "", nil
	}
	q.applyUser(&u)
	u.UpdatedAt = l.now()
	if err := l.st.UpdateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, userMissing(u.UserID)
		}
		return store.User{}, fmt.Errorf("could not update the user: %w", err)
	}
	l.putUser(u)
	l.setLimits(userBudget(u.UserID), old.Limits, u.Limits, &q.LimitsRequest, d)
	u, _ = l.user(u.UserID)
	return u, nil
}

// DeleteUsers deletes the users with their keys and team memberships, as LiteLLM does. Nothing is
// deleted unless every user exists. It returns the tokens of the keys deleted.
func (l *Ledger) DeleteUsers(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, invalid(`Name the users to delete: {"user_ids": ["..."]}.`)
	}
	for _, id := range ids {
		if _, ok := l.user(id); !ok {
			return nil, userMissing(id)
		}
	}
	var tokens []string
	for _, id := range ids {
		deleted, err := l.st.DeleteUser(ctx, id)
		if err != nil {
			return tokens, fmt.Errorf("could not delete user %s: %w", id, err)
		}
		tokens = append(tokens, deleted...)
		l.tu.mu.Lock()
		delete(l.tu.users, id)
		l.tu.mu.Unlock()
		l.forgetBudget(userBudget(id))
		l.forgetKeys(deleted)
		if err := l.dropMaxInTeams(ctx, id); err != nil { // the memberships went with the user (members.go)
			return tokens, err
		}
	}
	return tokens, nil
}
