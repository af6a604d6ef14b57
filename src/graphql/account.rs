//! The caller (`me`), logging in, and local accounts.

use super::scalars::{Time, time};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Result};
use entity::account;

use super::catalogue::{self, Conn, Fields};
use super::department::{self, Department};
use super::enums::Role;
use super::loaders::DepartmentById;
use super::write;
use super::{ContextExt, parse_id};
use crate::auth::ClientAddress;
use crate::auth::Permission;
use crate::auth::keys::Keys;
use crate::config::Config;
use crate::domain;
use crate::domain::gate::login_throttle::Throttle;
use crate::domain::reads::page::PageArgs;
use crate::domain::records::account::{Credentials, NewAccount};

// `me.permissions` reads the policy's own enum off the row.
crate::enum_leaf!(Permission);

/// The caller: identity, role, department and what follows from them (当前用户).
pub struct Me {
    /// The token's subject.
    pub sub: String,
    /// Display name, when the token gives one.
    pub name: Option<String>,
    /// The caller's role (角色).
    pub role: Role,
    /// The department the caller acts for; its subtree is the caller's scope.
    pub department: Option<Department>,
    /// What the caller may do.
    pub permissions: Vec<Permission>,
    /// Whether the caller reads every unit (otherwise only its department's subtree).
    pub reads_everything: bool,
}

impl catalogue::Object for Me {
    const NAME: &'static str = "Me";
    const DOC: &'static str =
        "The caller: identity, role, department and what follows from them (当前用户).";

    fn fields(f: &mut Fields<Self>) {
        f.value("sub", "The token's subject.", |r, _| r.sub.clone());
        f.value("name", "Display name, when the token gives one.", |r, _| {
            r.name.clone()
        });
        f.value("role", "The caller's role (角色).", |r, _| r.role);
        f.nested(
            "department",
            "The department the caller acts for; its subtree is the caller's scope.",
            |r| &r.department,
        );
        f.value("permissions", "What the caller may do.", |r, _| {
            r.permissions.clone()
        });
        f.value(
            "readsEverything",
            "Whether the caller reads every unit (otherwise only its department's subtree).",
            |r, _| r.reads_everything,
        );
    }
}

crate::object!(Me);

/// A local login account (本地账号).
#[derive(Clone)]
pub struct Account {
    pub id: ID,
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub disabled: bool,
    pub last_login_at: Option<Time>,
    pub created_at: Time,
    pub department_id: Option<i32>,
}

impl From<account::Model> for Account {
    fn from(a: account::Model) -> Self {
        Self {
            id: ID(a.id.to_string()),
            username: a.username,
            display_name: a.display_name,
            role: a.role.into(),
            disabled: a.disabled,
            last_login_at: time(a.last_login_at),
            created_at: Time(a.created_at),
            department_id: a.department_id,
        }
    }
}

impl catalogue::Object for Account {
    const NAME: &'static str = "Account";
    const DOC: &'static str = "A local login account (本地账号).";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |a, _| a.id.clone());
        f.value(
            "username",
            "Login name, unique (1 to 64 characters).",
            |a, _| a.username.clone(),
        );
        f.value("displayName", "Name shown to users, if set.", |a, _| {
            a.display_name.clone()
        });
        f.value("role", "Role (角色): what the account may do.", |a, _| {
            a.role
        });
        f.value(
            "disabled",
            "Whether the account is disabled: it cannot log in and its tokens are rejected.",
            |a, _| a.disabled,
        );
        f.value(
            "lastLoginAt",
            "When the account last logged in successfully, if ever.",
            |a, _| a.last_login_at,
        );
        f.value("createdAt", "When the account was created.", |a, _| {
            a.created_at
        });
        f.each(
            "lockedUntil",
            "Set while logins to the account are refused from every address (its failures from all\naddresses spent `RECTRACK_LOGIN_ACCOUNT_MAX_FAILURES`): when they are let through again.\nA name refused only from the addresses that guessed at it is not shown.",
            |a, ctx| Box::pin(async move { Ok(locked_until(ctx, &a.username)) }),
        );
        f.one(
            "department",
            "The department the account acts for.",
            |a, _, _| a.department_id.map(DepartmentById),
        );
    }
}

crate::object!(Account);

/// When logins to account `username` are let through again, while they are refused from every
/// address (the throttle lives in the server's memory, hence the context).
fn locked_until(ctx: &Context<'_>, username: &str) -> Option<Time> {
    let left = ctx
        .data_opt::<Arc<Throttle>>()?
        .name_refused_for(username)?;
    let left = chrono::Duration::from_std(left).ok()?;
    Some(Time(chrono::Utc::now() + left))
}

/// A short-lived access token for a local account.
pub struct LoginResult {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// When the access token expires.
    pub expires_at: Time,
    /// The account logged in to, as the login's own request sees it (it has no caller yet): its
    /// department is named, nothing more. Ask `me` with the token for the rest.
    pub account: Account,
}

impl catalogue::Object for LoginResult {
    const NAME: &'static str = "LoginResult";
    const DOC: &'static str = "A short-lived access token for a local account.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "accessToken",
            "Send as `Authorization: Bearer <accessToken>`.",
            |r, _| r.access_token.clone(),
        );
        f.value("expiresAt", "When the access token expires.", |r, _| {
            r.expires_at
        });
        f.nested("account", "The account logged in to, as the login's own request sees it (it has no caller yet): its\ndepartment is named, nothing more. Ask `me` with the token for the rest.", |r| &r.account);
    }
}

crate::object!(LoginResult);

/// A new local account (本地账号).
#[derive(InputObject)]
pub struct CreateAccountInput {
    /// Login name, unique (1 to 64 characters).
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    /// Name shown to users (optional).
    pub display_name: Option<String>,
    /// Role of the account (角色).
    pub role: Role,
    /// Code of the department the account acts for; required for managers and officers.
    pub department_code: Option<String>,
}

#[derive(Default)]
pub struct AccountQuery;

/// A new role or department for an account. Omitted fields stay; null clears the department.
#[derive(InputObject)]
pub struct UpdateAccountInput {
    pub id: ID,
    /// The new role.
    pub role: Option<Role>,
    /// Code of the new department; null for none (viewers, inspectors, admins).
    pub department_code: async_graphql::MaybeUndefined<String>,
}

impl catalogue::Root for AccountQuery {
    const NAME: &'static str = "AccountQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "accounts",
            "The local accounts (admins), by id; `search` matches the username or display name.",
            (param::<Option<String>>("search"), catalogue::Pages),
            |ctx, (search, pages)| Box::pin(Self::accounts(ctx, search, pages)),
        )
        .cost(catalogue::page_cost);
        f.field(
            "me",
            "The caller, or null when no token was sent.",
            (),
            |ctx, ()| Box::pin(Self::me(ctx)),
        );
    }
}

crate::root!(AccountQuery);

impl AccountQuery {
    async fn accounts(
        ctx: &Context<'_>,
        search: Option<String>,
        pages: PageArgs,
    ) -> Result<Conn<Account>> {
        let page =
            domain::records::account::list(ctx.db(), &ctx.acting(), search.as_deref(), &pages)
                .await?;
        Ok(Conn::of(page))
    }

    async fn me(ctx: &Context<'_>) -> Result<Option<Me>> {
        let caller = ctx.caller();
        let Some(identity) = caller.identity() else {
            return Ok(None);
        };
        let department = match &identity.department {
            Some(d) => department::load(ctx, d.id).await?,
            None => None,
        };
        Ok(Some(Me {
            sub: identity.sub.clone(),
            name: identity.name.clone(),
            role: identity.role.into(),
            department,
            permissions: caller.permissions().to_vec(),
            reads_everything: caller.read_reach() == crate::auth::Reach::All,
        }))
    }
}

#[derive(Default)]
pub struct AccountMutation;

impl catalogue::Root for AccountMutation {
    const NAME: &'static str = "AccountMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "login",
            "Logs in with a local account and returns a short-lived access token. Every attempt\n\
            counts, however it is sent: after repeated failures the name (from that address, or\n\
            from everywhere) and the address are refused for a while with RATE_LIMITED and\n\
            `extensions.retryAfter`.",
            (param::<String>("username"), param::<String>("password")),
            |ctx, (username, password)| Box::pin(Self::login(ctx, username, password)),
        );
        f.field(
            "createAccount",
            "Creates a local account (admins).",
            param::<CreateAccountInput>("input"),
            |ctx, input| Box::pin(Self::create_account(ctx, input)),
        );
        f.field(
            "updateAccount",
            "Gives an account another role or department (admins); its earlier tokens stop working.",
            param::<UpdateAccountInput>("input"),
            |ctx, input| Box::pin(Self::update_account(ctx, input)),
        );
        f.field(
            "disableAccount",
            "Disables an account; its tokens stop working at once (admins).",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::disable_account(ctx, id)),
        );
        f.field(
            "enableAccount",
            "Enables a disabled account (admins).",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::enable_account(ctx, id)),
        );
        f.field(
            "resetPassword",
            "Sets a new password for an account; its earlier tokens stop working (admins).",
            (param::<ID>("id"), param::<String>("newPassword")),
            |ctx, (id, new_password)| Box::pin(Self::reset_password(ctx, id, new_password)),
        );
        f.field(
            "changePassword",
            "Changes the caller's own password; earlier tokens stop working.",
            (
                param::<String>("currentPassword"),
                param::<String>("newPassword"),
            ),
            |ctx, (current_password, new_password)| {
                Box::pin(Self::change_password(ctx, current_password, new_password))
            },
        );
    }
}

crate::root!(AccountMutation);

impl AccountMutation {
    async fn login(ctx: &Context<'_>, username: String, password: String) -> Result<LoginResult> {
        let keys = ctx.data_unchecked::<Arc<Keys>>();
        let config = ctx.data_unchecked::<Arc<Config>>();
        // Outside HTTP (in-process tools) there is no address: all such attempts share one.
        let client = ctx
            .data_opt::<ClientAddress>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0);
        let session = domain::records::account::login(
            ctx.db(),
            keys,
            &config.jwt,
            config.timezone,
            ctx.data_unchecked::<Arc<Throttle>>(),
            Credentials {
                username,
                password,
                client,
                request_id: ctx.request_id(),
            },
        )
        .await?;
        Ok(LoginResult {
            access_token: session.token,
            expires_at: Time(session.expires_at),
            account: session.account.into(),
        })
    }

    async fn create_account(ctx: &Context<'_>, input: CreateAccountInput) -> Result<Account> {
        let created = write(ctx, async |txn, who| {
            domain::records::account::create(
                txn,
                who,
                NewAccount {
                    username: input.username,
                    password: input.password,
                    display_name: input.display_name,
                    role: input.role.into(),
                    department_code: input.department_code,
                },
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    async fn update_account(ctx: &Context<'_>, input: UpdateAccountInput) -> Result<Account> {
        let id = parse_id("id", &input.id)?;
        let department = super::patch(input.department_code);
        Ok(write(ctx, async |txn, who| {
            domain::records::account::set_role(txn, who, id, input.role.map(Into::into), department)
                .await
        })
        .await?
        .into())
    }

    async fn disable_account(ctx: &Context<'_>, id: ID) -> Result<Account> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::account::set_disabled(txn, who, id, true).await
        })
        .await?
        .into())
    }

    async fn enable_account(ctx: &Context<'_>, id: ID) -> Result<Account> {
        let id = parse_id("id", &id)?;
        let account = write(ctx, async |txn, who| {
            domain::records::account::set_disabled(txn, who, id, false).await
        })
        .await?;
        // Failed logins against the name no longer hold its owner back.
        ctx.data_unchecked::<Arc<Throttle>>()
            .forget(&account.username);
        Ok(account.into())
    }

    async fn reset_password(ctx: &Context<'_>, id: ID, new_password: String) -> Result<Account> {
        let id = parse_id("id", &id)?;
        let account = write(ctx, async |txn, who| {
            domain::records::account::reset_password(txn, who, id, new_password).await
        })
        .await?;
        ctx.data_unchecked::<Arc<Throttle>>()
            .forget(&account.username);
        Ok(account.into())
    }

    async fn change_password(
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<Account> {
        Ok(write(ctx, async |txn, who| {
            domain::records::account::change_own_password(txn, who, current_password, new_password)
                .await
        })
        .await?
        .into())
    }
}
