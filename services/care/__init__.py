"""Care: agreements with carers and guardians (and their .docx), self-care ability, wishes to move into institutions."""
