// Package qunyun is the domain of Qunyun: the words of DESIGN.md §4 as types
// (Account, Group, Member, Message, Host, Session, Content, Plan, Delivery,
// Score, Contest), the domain error, and the events the parts exchange.
//
// It imports nothing of the outside world: no AWS, no HTTP, no WeChat wire
// formats. Adapters (dynamo, wechat, the functions) translate to and from it.
package qunyun
