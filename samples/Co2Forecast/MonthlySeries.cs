using System.Globalization;

namespace Co2Forecast;

/// <summary>A monthly series without gaps: <c>Values[i]</c> is the value of month <c>FirstMonth + i</c>.</summary>
/// <param name="FirstMonth">The first month as <c>year * 12 + (month - 1)</c>.</param>
/// <param name="Values">One value per month.</param>
/// <param name="FilledMonths">How many months were missing in the file and were interpolated.</param>
internal sealed record MonthlySeries(int FirstMonth, double[] Values, int FilledMonths)
{
    public int Length => Values.Length;

    /// <summary>"2012-05" for month <paramref name="index"/> of the series.</summary>
    public string Label(int index)
    {
        int month = FirstMonth + index;
        return string.Create(CultureInfo.InvariantCulture, $"{month / 12}-{month % 12 + 1:00}");
    }

    /// <summary>The middle of month <paramref name="index"/> as a decimal year (2012.375 is May 2012), for plots.</summary>
    public double Year(int index) => (FirstMonth + index + 0.5) / 12.0;

    /// <summary>
    /// Reads a CSV whose first column is a date <c>yyyy-MM-dd</c> and whose column <paramref name="column"/> is
    /// the value. Months missing from the file are filled by linear interpolation between their neighbours.
    /// </summary>
    public static MonthlySeries Load(string path, string column)
    {
        string[] lines = File.ReadAllLines(path);
        int valueColumn = Array.IndexOf(lines[0].Split(','), column);
        if (valueColumn < 0) throw new InvalidDataException($"{path} has no column '{column}'.");

        var months = new List<int>();
        var values = new List<double>();
        foreach (string line in lines.Skip(1).Where(l => l.Length > 0))
        {
            string[] fields = line.Split(',');
            DateTime date = DateTime.ParseExact(fields[0], "yyyy-MM-dd", CultureInfo.InvariantCulture);
            months.Add(date.Year * 12 + date.Month - 1);
            values.Add(double.Parse(fields[valueColumn], CultureInfo.InvariantCulture));
        }

        int first = months[0];
        var series = new double[months[^1] - first + 1];
        int filled = 0;
        for (int k = 0; k < months.Count; k++)
        {
            series[months[k] - first] = values[k];
            if (k == 0) continue;
            int gap = months[k] - months[k - 1];
            if (gap <= 0) throw new InvalidDataException($"{path}: months are not increasing at line {k + 2}.");
            for (int m = 1; m < gap; m++)
            {
                series[months[k - 1] - first + m] = values[k - 1] + (values[k] - values[k - 1]) * m / gap;
                filled++;
            }
        }
        return new MonthlySeries(first, series, filled);
    }
}
