//! The facts `pen-doctor cert FILE` shows above its report: what each line is (typed, so the
//! renderer says its label in the language asked for) and its value as the certificate gave it.

/// What a fact line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertFactLabel {
    File,
    Format,
    Subject,
    Issuer,
    Serial,
    NotBefore,
    NotAfter,
    Sha256,
    Cnpj,
    Cpf,
    DaysLeft,
    Key,
    Eku,
    Chain,
}

impl CertFactLabel {
    /// The key of the label in the messages table, or `None` for a name said alike in every
    /// language (`SHA-256`, `CNPJ`, `CPF`: see [`CertFactLabel::name`]).
    pub fn message_key(self) -> Option<&'static str> {
        Some(match self {
            CertFactLabel::File => "cert.file",
            CertFactLabel::Format => "cert.format",
            CertFactLabel::Subject => "cert.subject",
            CertFactLabel::Issuer => "cert.issuer",
            CertFactLabel::Serial => "cert.serial",
            CertFactLabel::NotBefore => "cert.not-before",
            CertFactLabel::NotAfter => "cert.not-after",
            CertFactLabel::DaysLeft => "cert.days-left",
            CertFactLabel::Key => "cert.key",
            CertFactLabel::Eku => "cert.eku",
            CertFactLabel::Chain => "cert.chain",
            CertFactLabel::Sha256 | CertFactLabel::Cnpj | CertFactLabel::Cpf => return None,
        })
    }

    /// The name of a label said alike in every language.
    pub fn name(self) -> &'static str {
        match self {
            CertFactLabel::Sha256 => "SHA-256",
            CertFactLabel::Cnpj => "CNPJ",
            CertFactLabel::Cpf => "CPF",
            other => other.message_key().unwrap_or_default(),
        }
    }
}

/// A fact's value: text as the certificate gave it, or one certificate of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertFactValue {
    Text(String),
    ChainLink { subject: String, issuer: String },
}

/// One line of the facts block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFact {
    pub label: CertFactLabel,
    pub value: CertFactValue,
}

impl CertFact {
    pub fn text(label: CertFactLabel, value: impl Into<String>) -> CertFact {
        CertFact { label, value: CertFactValue::Text(value.into()) }
    }
}
