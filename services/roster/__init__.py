"""County roster import (花名册): read the file, check every row, write it in one go."""
