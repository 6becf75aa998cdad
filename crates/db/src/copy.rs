//! Copying every row of one database into another, whatever the two
//! backends (`photodesk migrate-store`). Rows keep their ids, so references
//! between tables and the ids API clients hold stay valid. Each page of rows
//! is one transaction and rows already there are skipped, so an interrupted
//! copy resumes where it stopped; [`SqlDatabase::table_digests`] proves the
//! result equal.

use crate::backend::{placeholders, query, Dialect, Value, ValueKind};
use crate::{DbError, SqlDatabase};
use sha2::{Digest, Sha256};

/// A table as copied: its columns and the order its rows are read in.
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [(&'static str, ValueKind)],
    /// The key columns rows are read in order of.
    order: &'static [&'static str],
    /// Has an identity `id` whose PostgreSQL sequence must move past the
    /// copied ids.
    identity: bool,
}

use ValueKind::{Bool, Int, Text, Time};

/// Every table, parents before children.
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("role", Text),
            ("password_hash", Text),
            ("disabled", Bool),
            ("created_at", Time),
        ],
        order: &["id"],
        identity: true,
    },
    Table {
        name: "photos",
        columns: &[
            ("id", Int),
            ("sha256", Text),
            ("media_type", Text),
            ("width", Int),
            ("height", Int),
            ("byte_size", Int),
            ("metadata", Text),
            ("created_at", Time),
            ("placeholder", Text),
            ("perceptual_hash", Text),
            ("near_duplicate_of", Int),
            ("rendition_version", Int),
        ],
        order: &["id"],
        identity: true,
    },
    Table {
        name: "renditions",
        columns: &[
            ("photo_id", Int),
            ("format", Text),
            ("width", Int),
            ("height", Int),
            ("quality", Int),
            ("byte_size", Int),
            ("key", Text),
        ],
        order: &["photo_id", "format", "width"],
        identity: false,
    },
    Table {
        name: "stories",
        columns: &[
            ("id", Int),
            ("slug", Text),
            ("headline", Text),
            ("lead", Text),
            ("status", Text),
            ("published_at", Time),
            ("created_at", Time),
            ("updated_at", Time),
            ("version", Int),
        ],
        order: &["id"],
        identity: true,
    },
    Table {
        name: "slides",
        columns: &[
            ("id", Int),
            ("story_id", Int),
            ("position", Int),
            ("photo_id", Int),
            ("caption", Text),
            ("alt_text", Text),
            ("credit", Text),
        ],
        order: &["id"],
        identity: true,
    },
    Table {
        name: "revisions",
        columns: &[
            ("story_id", Int),
            ("version", Int),
            ("user_name", Text),
            ("created_at", Time),
            ("content", Text),
        ],
        order: &["story_id", "version"],
        identity: false,
    },
    Table {
        name: "sessions",
        columns: &[
            ("token_hash", Text),
            ("user_id", Int),
            ("csrf_token", Text),
            ("created_at", Time),
            ("expires_at", Time),
        ],
        order: &["token_hash"],
        identity: false,
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("user_id", Int),
            ("token_hash", Text),
            ("created_at", Time),
            ("revoked_at", Time),
        ],
        order: &["id"],
        identity: true,
    },
];

/// Rows read and written per transaction.
const PAGE: u32 = 500;

/// What copying one table came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    /// Rows in the source.
    pub rows: u64,
    /// Rows this run wrote (the rest were there already).
    pub copied: u64,
}

/// A table's row count and the SHA-256 of its rows in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDigest {
    pub table: &'static str,
    pub rows: u64,
    pub sha256: String,
}

impl Table {
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The key order, bytewise on both backends (PostgreSQL would sort
    /// text by the server's locale), so digests compare across them.
    fn order_by(&self, dialect: Dialect) -> String {
        let collate = match dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        };
        self.order
            .iter()
            .map(
                |column| match self.columns.iter().find(|(name, _)| name == column) {
                    Some((_, ValueKind::Text)) => format!("{column}{collate}"),
                    _ => (*column).to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Reads the table page by page, in key order.
    fn pages<'a>(&'a self, db: &'a SqlDatabase) -> Pages<'a> {
        Pages {
            table: self,
            db,
            read: 0,
        }
    }

    async fn page(&self, db: &SqlDatabase, offset: u64) -> Result<Vec<Vec<Value>>, DbError> {
        let rows = query(format!(
            "SELECT {} FROM {} ORDER BY {} LIMIT ? OFFSET ?",
            self.column_list(),
            self.name,
            self.order_by(db.dialect())
        ))
        .bind(PAGE)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?;
        rows.iter()
            .map(|row| {
                self.columns
                    .iter()
                    .map(|&(name, kind)| row.value(name, kind))
                    .collect()
            })
            .collect()
    }

    /// The key columns of `row` with their values.
    fn key_of<'r>(&self, row: &'r [Value]) -> Vec<(&'static str, &'r Value)> {
        self.order
            .iter()
            .map(|column| {
                let at = self
                    .columns
                    .iter()
                    .position(|(name, _)| name == column)
                    .expect("key columns are listed");
                (*column, &row[at])
            })
            .collect()
    }

    /// The source's row with the key of `row` (columns in table order).
    async fn matching(
        &self,
        db: &SqlDatabase,
        row: &[Value],
    ) -> Result<Option<Vec<Value>>, DbError> {
        let mut lookup = query(format!(
            "SELECT {} FROM {} WHERE {}",
            self.column_list(),
            self.name,
            self.order
                .iter()
                .map(|column| format!("{column} = ?"))
                .collect::<Vec<_>>()
                .join(" AND ")
        ));
        for (_, value) in self.key_of(row) {
            lookup = lookup.bind(value.clone());
        }
        lookup
            .fetch_optional(&db.pool)
            .await?
            .map(|found| {
                self.columns
                    .iter()
                    .map(|&(name, kind)| found.value(name, kind))
                    .collect()
            })
            .transpose()
    }

    async fn count(&self, db: &SqlDatabase) -> Result<u64, DbError> {
        query(format!("SELECT COUNT(*) AS n FROM {}", self.name))
            .fetch_one(&db.pool)
            .await?
            .unsigned("n")
    }
}

/// A table read [`PAGE`] rows at a time.
struct Pages<'a> {
    table: &'a Table,
    db: &'a SqlDatabase,
    /// Rows returned so far.
    read: u64,
}

impl Pages<'_> {
    async fn next(&mut self) -> Result<Option<Vec<Vec<Value>>>, DbError> {
        let page = self.table.page(self.db, self.read).await?;
        self.read += page.len() as u64;
        Ok((!page.is_empty()).then_some(page))
    }
}

impl SqlDatabase {
    /// Copies every row into `to` (same schema, any backend), skipping rows
    /// whose key is already there. `progress(table, done, total)` follows
    /// each table. Run it while nothing writes to either database.
    pub async fn copy_rows_to(
        &self,
        to: &SqlDatabase,
        progress: impl Fn(&'static str, u64, u64),
    ) -> Result<Vec<TableCopy>, DbError> {
        let mut report = Vec::new();
        for table in TABLES {
            let rows = table.count(self).await?;
            let insert = format!(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
                table.name,
                table.column_list(),
                placeholders(table.columns.len())
            );
            let mut copied = 0;
            let mut pages = table.pages(self);
            progress(table.name, 0, rows);
            while let Some(page) = pages.next().await? {
                let mut tx = to.pool.begin().await?;
                for row in page {
                    let mut statement = query(insert.as_str());
                    for value in row {
                        statement = statement.bind(value);
                    }
                    copied += statement.execute(&mut tx).await?;
                }
                tx.commit().await?;
                progress(table.name, pages.read.min(rows), rows);
            }
            if table.identity && to.dialect() == Dialect::Postgres {
                // New rows must get ids after the copied ones.
                query(format!(
                    "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE(MAX(id), 0) + 1, false)
                     FROM {0}",
                    table.name
                ))
                .execute(&to.pool)
                .await?;
            }
            report.push(TableCopy {
                table: table.name,
                rows,
                copied,
            });
        }
        Ok(report)
    }

    /// Rows of this database that `source` lacks or holds otherwise, at
    /// most `limit` of them, described. Empty when this is a new database or
    /// an interrupted copy of `source`, so copying into it is safe.
    pub async fn rows_foreign_to(
        &self,
        source: &SqlDatabase,
        limit: usize,
    ) -> Result<Vec<String>, DbError> {
        let mut foreign = Vec::new();
        for table in TABLES {
            let mut pages = table.pages(self);
            while let Some(page) = pages.next().await? {
                for row in page {
                    if table.matching(source, &row).await?.as_ref() != Some(&row) {
                        let key: Vec<String> = table
                            .key_of(&row)
                            .into_iter()
                            .map(|(column, value)| format!("{column} {}", value.canonical()))
                            .collect();
                        foreign.push(format!("{} row ({})", table.name, key.join(", ")));
                        if foreign.len() == limit {
                            return Ok(foreign);
                        }
                    }
                }
            }
        }
        Ok(foreign)
    }

    /// Every table's row count and content hash, equal across backends for
    /// equal data (times compared to the microsecond).
    pub async fn table_digests(&self) -> Result<Vec<TableDigest>, DbError> {
        let mut digests = Vec::new();
        for table in TABLES {
            let mut hash = Sha256::new();
            let mut pages = table.pages(self);
            while let Some(page) = pages.next().await? {
                for row in page {
                    for value in row {
                        hash.update(value.canonical().as_bytes());
                        hash.update([0x1f]);
                    }
                    hash.update([0x1e]);
                }
            }
            digests.push(TableDigest {
                table: table.name,
                rows: pages.read,
                sha256: format!("{:x}", hash.finalize()),
            });
        }
        Ok(digests)
    }
}
